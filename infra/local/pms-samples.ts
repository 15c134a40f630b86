import { readFileSync } from 'node:fs';
import { LocalSecretStore } from '../../functions/core/secrets.ts';
import { signHospitable } from '../../functions/sources/hospitable.ts';
import { signLodgify } from '../../functions/sources/lodgify.ts';
import { signSmily } from '../../functions/sources/smily.ts';
import { urlTokensOf } from '../../functions/sources/url-token.ts';
import type { LocalStack } from './stack.ts';

/**
 * The signed sample requests `npm start` prints for the Guesty, Smily, Lodgify, Hospitable and
 * Smoobu demo connections (sandbox-only secrets).
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
  if (stack.config.connections['smily-demo']?.pms === 'smily') {
    const secret = String(await secrets.get(stack.config.connections['smily-demo'].secret).catch(() => ''));
    const file = 'examples/smily-booking_created.json';
    lines.push(
      '',
      'Smily (X-Content-Signature over the exact file bytes; the worker reads the booking and client from the Smily sandbox):',
      `  curl -i -X POST ${base}/smily-demo -H 'content-type: application/json' -H 'x-content-signature: ${signSmily(secret, readFileSync(file, 'utf8'))}' --data-binary @${file}`,
    );
  }
  const lodgify = stack.config.connections['lodgify-demo'];
  if (lodgify?.pms === 'lodgify') {
    const secret = await secrets.get(lodgify.secret).catch(() => []);
    const first = String(Array.isArray(secret) ? secret[0] : secret);
    const file = 'examples/lodgify-booking_new_status_booked.json';
    lines.push(
      '',
      'Lodgify (ms-signature over the exact file bytes, with one subscription\'s secret; the worker re-reads the booking from the Lodgify sandbox):',
      `  curl -i -X POST ${base}/lodgify-demo -H 'content-type: application/json' -H 'ms-signature: ${signLodgify(first, readFileSync(file, 'utf8'))}' --data-binary @${file}`,
    );
  }
  const hospitable = stack.config.connections['hospitable-demo'];
  if (hospitable?.pms === 'hospitable') {
    const secret = String(await secrets.get(hospitable.secret).catch(() => ''));
    const file = 'examples/hospitable-reservation.created.json';
    lines.push(
      '',
      'Hospitable (Signature over the exact file bytes; the full reservation is in the webhook):',
      `  curl -i -X POST ${base}/hospitable-demo -H 'content-type: application/json' -H 'signature: ${signHospitable(secret, readFileSync(file, 'utf8'))}' --data-binary @${file}`,
    );
  }
  const smoobu = stack.config.connections['smoobu-demo'];
  if (smoobu?.pms === 'smoobu') {
    const token = await secrets.get(smoobu.secret).then((secret) => urlTokensOf(secret)[0]).catch(() => '<token>');
    const file = 'examples/smoobu-newReservation.json';
    lines.push(
      '',
      'Smoobu (no signature: the token is the last path segment; the worker re-reads the reservation from the Smoobu sandbox):',
      `  curl -i -X POST ${base}/smoobu-demo/${token} -H 'content-type: application/json' --data-binary @${file}`,
    );
  }
  // Hotel PMSs: thin webhooks with the connection's token as the last path segment.
  const hotels = [
    ['apaleo-demo', 'apaleo', 'examples/apaleo-reservation_created.json', 'apaleo (URL token; the worker reads the reservation from the apaleo sandbox with an OAuth token):'],
    ['mews-demo', 'mews', 'examples/mews-ServiceOrderUpdated.json', 'Mews (URL token; a batch: one reservation and one customer, read from the Mews sandbox):'],
    ['cloudbeds-demo', 'cloudbeds', 'examples/cloudbeds-reservation_created.json', 'Cloudbeds (URL token; the worker reads the reservation from the Cloudbeds sandbox):'],
  ] as const;
  for (const [connectionId, pms, file, title] of hotels) {
    const connection = stack.config.connections[connectionId];
    if (connection?.pms !== pms) continue;
    const token = await secrets.get(connection.secret).then((secret) => urlTokensOf(secret)[0]).catch(() => '<token>');
    lines.push('', title, `  curl -i -X POST ${base}/${connectionId}/${token} -H 'content-type: application/json' --data-binary @${file}`);
  }
  return lines.join('\n');
}
