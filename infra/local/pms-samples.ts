import { readFileSync } from 'node:fs';
import { LocalSecretStore } from '../../functions/core/secrets.ts';
import { signSmily } from '../../functions/sources/smily.ts';
import type { LocalStack } from './stack.ts';

/**
 * The signed sample requests `npm start` prints for the Guesty and Smily demo connections.
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
  return lines.join('\n');
}
