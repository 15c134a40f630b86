import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadConfigFile } from '../functions/core/config.ts';
import { own } from '../functions/core/own.ts';
import { LocalSecretStore } from '../functions/core/secrets.ts';
import { signHospitable } from '../functions/sources/hospitable.ts';
import { signLodgify } from '../functions/sources/lodgify.ts';
import { signSmily } from '../functions/sources/smily.ts';
import { signStandardWebhook } from '../functions/sources/standard-webhooks.ts';
import { urlTokensOf } from '../functions/sources/url-token.ts';

/**
 * `npm run send -- <connectionId> <file.json> [base-url]`: sends a webhook to the local stack
 * the way the connection's PMS would, signed or authenticated with the connection's secret
 * (from GUEST_SYNC_SECRET_* env, .secrets.json or the demo file). The base URL is the
 * `webhooks` one `npm start` printed; without it, GUEST_SYNC_HTTP_PORT or 3000.
 */
const [connectionId, file, base = `http://127.0.0.1:${process.env.GUEST_SYNC_HTTP_PORT ?? 3000}`] = process.argv.slice(2);
if (!connectionId || !file) {
  console.error('usage: npm run send -- <connectionId> <file.json> [base-url]');
  process.exit(2);
}
const config = loadConfigFile(process.env.GUEST_SYNC_CONFIG_SOURCE ?? 'config/guest-sync.example.json');
const connection = own(config.connections, connectionId);
if (!connection) {
  console.error(`no connection "${connectionId}" in the config; known: ${Object.keys(config.connections).join(', ')}`);
  process.exit(2);
}
let body: string;
try {
  body = readFileSync(file, 'utf8');
} catch (error) {
  console.error(`cannot read ${file}: ${(error as Error).message}`);
  process.exit(2);
}
const secret = await new LocalSecretStore(process.env, ['config/secrets.example.json', '.secrets.json']).get(connection.secret);
const current = secret && typeof secret === 'object' && 'current' in secret ? (secret as { current: unknown }).current : secret;

const headers: Record<string, string> = { 'content-type': 'application/json' };
if (connection.pms === 'generic') {
  Object.assign(headers, signStandardWebhook(String(current), `msg_${randomUUID()}`, Math.floor(Date.now() / 1000), body));
} else if (connection.pms === 'guesty') {
  // Guesty delivers through Svix: the same signature under `svix-*` header names.
  const signed = signStandardWebhook(String(current), `msg_${randomUUID()}`, Math.floor(Date.now() / 1000), body);
  for (const [name, value] of Object.entries(signed)) headers[name.replace(/^webhook-/, 'svix-')] = value;
} else if (connection.pms === 'smily') {
  headers['x-content-signature'] = signSmily(String(current), body);
  headers['user-agent'] = 'BookingSync Webhook Delivery';
} else if (connection.pms === 'lodgify') {
  headers['ms-signature'] = signLodgify(String(Array.isArray(current) ? current[0] : current), body);
} else if (connection.pms === 'hospitable') {
  headers.signature = signHospitable(String(current), body);
} else if (connection.pms === 'hostaway') {
  const { username, password } = current as { username: string; password: string };
  headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
// PMSs that sign nothing (Smoobu, apaleo, Mews, Cloudbeds) carry the connection's token as the last path segment.
const signsNothing = ['smoobu', 'apaleo', 'mews', 'cloudbeds'].includes(connection.pms);
const path = signsNothing ? `${connectionId}/${encodeURIComponent(urlTokensOf(secret)[0]!)}` : connectionId;
const url = `${base.replace(/\/+$/, '').replace(/\/webhooks$/, '')}/webhooks/${path}`;
let response: Response;
try {
  response = await fetch(url, { method: 'POST', headers, body });
} catch (error) {
  const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
  console.error(`cannot reach ${base} (${reason}). Is \`npm start\` running? Pass the webhooks URL it printed as the third argument.`);
  process.exit(1);
}
console.log(`${response.status} ${await response.text()}`);
process.exit(response.ok ? 0 : 1);
