import { timingSafeEqual } from 'node:crypto';
import * as z from '../core/zod.ts';
import { WebhookError } from '../core/errors.ts';
import { rotatingValues } from '../core/secrets.ts';
import type { Delivery, Verified } from './source.ts';

/**
 * HTTP Basic verification of a delivery (Hostaway requires it of us; apaleo recommends it as
 * an alternative to a URL token). The secret is `{"username","password"}`, rotatable.
 */

export const BasicSecret = z.object({ username: z.string().check(z.minLength(1)), password: z.string().check(z.minLength(1)) });

export function verifyHttpBasic(delivery: Delivery, secret: unknown): Verified {
  const header = delivery.headers['authorization'];
  if (!header) throw new WebhookError(401, 'missing_credentials', 'HTTP Basic credentials are required for this connection.');
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const offered = match ? Buffer.from(match[1]!, 'base64') : Buffer.alloc(0);
  const accepted = credentialsOf(secret) ?? refuseSecret(secret);
  if (!accepted.some((expected) => expected.length === offered.length && timingSafeEqual(expected, offered))) {
    throw new WebhookError(401, 'invalid_credentials', 'The HTTP Basic user name or password is wrong.');
  }
  return {};
}

/** Whether a connection secret is HTTP Basic credentials (rather than, say, a URL token). */
export function isBasicSecret(secret: unknown): boolean {
  return credentialsOf(secret) !== null;
}

/** The secret stores hand back the same object until it changes: its credentials are read once per object. */
const credentialsBySecret = new WeakMap<object, Buffer[] | null>();

/** The `user:password` of each of the secret's rotating values, or null when one is not a user and password. */
function credentialsOf(secret: unknown): Buffer[] | null {
  const cacheable = typeof secret === 'object' && secret !== null;
  const known = cacheable ? credentialsBySecret.get(secret) : undefined;
  if (known !== undefined) return known;
  let credentials: Buffer[] | null = [];
  for (const value of rotatingValues(secret)) {
    const parsed = BasicSecret.safeParse(value);
    if (!parsed.success) {
      credentials = null;
      break;
    }
    credentials.push(Buffer.from(`${parsed.data.username}:${parsed.data.password}`));
  }
  if (cacheable) credentialsBySecret.set(secret, credentials);
  return credentials;
}

/** A secret that is not a user and password is our misconfiguration (a 5xx): zod's error names the field. */
function refuseSecret(secret: unknown): never {
  for (const value of rotatingValues(secret)) BasicSecret.parse(value);
  throw new Error('an HTTP Basic secret must be {"username", "password"}');
}
