import { timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { WebhookError } from '../core/errors.ts';
import { rotatingValues } from '../core/secrets.ts';
import type { Delivery, Verified } from './source.ts';

/**
 * HTTP Basic verification of a delivery (Hostaway requires it of us; apaleo recommends it as
 * an alternative to a URL token). The secret is `{"username","password"}`, rotatable.
 */

export const BasicSecret = z.object({ username: z.string().min(1), password: z.string().min(1) });

export function verifyHttpBasic(delivery: Delivery, secret: unknown): Verified {
  const header = delivery.headers['authorization'];
  if (!header) throw new WebhookError(401, 'missing_credentials', 'HTTP Basic credentials are required for this connection.');
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const offered = match ? Buffer.from(match[1]!, 'base64') : Buffer.alloc(0);
  const accepted = acceptedCredentials(secret);
  if (!accepted.some((expected) => expected.length === offered.length && timingSafeEqual(expected, offered))) {
    throw new WebhookError(401, 'invalid_credentials', 'The HTTP Basic user name or password is wrong.');
  }
  return {};
}

/** Whether a connection secret is HTTP Basic credentials (rather than, say, a URL token). */
/** The secret stores hand back the same object until it changes: its credentials are read once per object. */
const credentialsBySecret = new WeakMap<object, Buffer[]>();

function acceptedCredentials(secret: unknown): Buffer[] {
  const known = typeof secret === 'object' && secret !== null ? credentialsBySecret.get(secret) : undefined;
  if (known) return known;
  const accepted = rotatingValues(secret).map((value) => {
    const parsed = BasicSecret.parse(value);
    return Buffer.from(`${parsed.username}:${parsed.password}`);
  });
  if (typeof secret === 'object' && secret !== null) credentialsBySecret.set(secret, accepted);
  return accepted;
}

const isBasicBySecret = new WeakMap<object, boolean>();

export function isBasicSecret(secret: unknown): boolean {
  const known = typeof secret === 'object' && secret !== null ? isBasicBySecret.get(secret) : undefined;
  if (known !== undefined) return known;
  const basic = rotatingValues(secret).every((value) => BasicSecret.safeParse(value).success);
  if (typeof secret === 'object' && secret !== null) isBasicBySecret.set(secret, basic);
  return basic;
}
