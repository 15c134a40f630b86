import { readFileSync } from 'node:fs';
import { LocalSecretStore } from '../../functions/core/secrets.ts';
import { demoDelivery } from './demo-delivery.ts';
import type { LocalStack } from './stack.ts';

/**
 * The signed sample requests `npm start` prints for the Guesty, Smily, Lodgify, Hospitable,
 * Smoobu, apaleo, Mews and Cloudbeds demo connections (sandbox-only secrets).
 * Svix signatures cover a timestamp and expire after 5 minutes, so the Guesty line signs at
 * the moment it is run (with openssl); Smily signs only the body, so its signature is printed.
 */
export async function pmsSampleRequests(stack: LocalStack): Promise<string> {
  const secrets = new LocalSecretStore(process.env, stack.env.GUEST_SYNC_SECRETS_FILES!.split(','));
  const lines: string[] = [];
  const base = `${stack.urls.webhooks}/webhooks`;

  if (stack.config.connections['guesty-demo']?.pms === 'guesty') {
    const secret = String(await secrets.get(stack.config.connections['guesty-demo'].secret).catch(() => ''));
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const file = 'examples/guesty-reservation.created.v2.json';
    lines.push(
      '',
      'Guesty (Svix-signed v2 event; the worker reads the reservation and guest from the Guesty sandbox):',
      `  (ts=$(date +%s); id=msg_demo_$ts; sig=$({ printf '%s.%s.' "$id" "$ts"; cat ${file}; } | openssl dgst -sha256 -mac HMAC -macopt hexkey:${key.toString('hex')} -binary | base64); curl -i -X POST ${base}/guesty-demo -H 'content-type: application/json' -H "svix-id: $id" -H "svix-timestamp: $ts" -H "svix-signature: v1,$sig" --data-binary @${file})`,
      `  or: npm run send -- guesty-demo examples/guesty-reservation.new.json   (legacy full-payload event)`,
    );
  }
  // The others sign only the body, or carry a token in the URL: the printed request works as is.
  const samples = [
    ['smily-demo', 'smily', 'examples/smily-booking_created.json', 'Smily (X-Content-Signature over the exact file bytes; the worker reads the booking and client from the Smily sandbox):'],
    ['lodgify-demo', 'lodgify', 'examples/lodgify-booking_new_status_booked.json', 'Lodgify (ms-signature over the exact file bytes, with one subscription\'s secret; the worker re-reads the booking from the Lodgify sandbox):'],
    ['hospitable-demo', 'hospitable', 'examples/hospitable-reservation.created.json', 'Hospitable (Signature over the exact file bytes; the full reservation is in the webhook):'],
    ['smoobu-demo', 'smoobu', 'examples/smoobu-newReservation.json', 'Smoobu (no signature: the token is the last path segment; the worker re-reads the reservation from the Smoobu sandbox):'],
    ['apaleo-demo', 'apaleo', 'examples/apaleo-reservation_created.json', 'apaleo (URL token; the worker reads the reservation from the apaleo sandbox with an OAuth token):'],
    ['mews-demo', 'mews', 'examples/mews-ServiceOrderUpdated.json', 'Mews (URL token; a batch: one reservation and one customer, read from the Mews sandbox):'],
    ['cloudbeds-demo', 'cloudbeds', 'examples/cloudbeds-reservation_created.json', 'Cloudbeds (URL token; the worker reads the reservation from the Cloudbeds sandbox):'],
  ] as const;
  for (const [connectionId, pms, file, title] of samples) {
    const connection = stack.config.connections[connectionId];
    if (connection?.pms !== pms) continue;
    const secret = await secrets.get(connection.secret).catch(() => undefined);
    if (secret === undefined) continue;
    const { path, headers } = demoDelivery(pms, connectionId, secret, readFileSync(file, 'utf8'), { nowMs: Date.now(), id: 'msg_sample' });
    const flags = Object.entries(headers).filter(([name]) => name !== 'user-agent').map(([name, value]) => ` -H '${name}: ${value}'`).join('');
    lines.push('', title, `  curl -i -X POST ${base}/${path} -H 'content-type: application/json'${flags} --data-binary @${file}`);
  }
  return lines.join('\n');
}
