import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadConfigFile } from '../functions/core/config.ts';
import { own } from '../functions/core/own.ts';
import { LocalSecretStore } from '../functions/core/secrets.ts';
import { demoDelivery } from '../infra/local/demo-delivery.ts';

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
const { path, headers } = demoDelivery(connection.pms, connectionId, secret, body, { nowMs: Date.now(), id: `msg_${randomUUID()}` });
const url = `${base.replace(/\/+$/, '').replace(/\/webhooks$/, '')}/webhooks/${path}`;
let response: Response;
try {
  response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
} catch (error) {
  const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
  console.error(`cannot reach ${base} (${reason}). Is \`npm start\` running? Pass the webhooks URL it printed as the third argument.`);
  process.exit(1);
}
console.log(`${response.status} ${await response.text()}`);
process.exit(response.ok ? 0 : 1);
