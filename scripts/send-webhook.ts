import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadConfigFile } from '../functions/core/config.ts';
import { own } from '../functions/core/own.ts';
import { LocalSecretStore } from '../functions/core/secrets.ts';
import { signSmily } from '../functions/sources/smily.ts';
import { signStandardWebhook } from '../functions/sources/standard-webhooks.ts';

/**
 * `npm run send -- <connectionId> <file.json> [url]`: sends a webhook to the local stack the
 * way the connection's PMS would, signed or authenticated with the connection's secret
 * (from GUEST_SYNC_SECRET_* env, .secrets.json or the demo file).
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
const body = readFileSync(file, 'utf8');
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
} else {
  const { username, password } = current as { username: string; password: string };
  headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
const response = await fetch(`${base}/webhooks/${connectionId}`, { method: 'POST', headers, body });
console.log(`${response.status} ${await response.text()}`);
process.exit(response.ok ? 0 : 1);
