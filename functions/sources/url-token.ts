import { createHash, timingSafeEqual } from 'node:crypto';
import { WebhookError } from '../core/errors.ts';
import { rotatingValues } from '../core/secrets.ts';
import type { Delivery, Verified } from './source.ts';

/**
 * URL-token verification, for PMSs that sign nothing (Smoobu now; Cloudbeds, Mews and apaleo
 * next): the connection's secret is an unguessable token the host puts in the webhook URL,
 * either as the last path segment (`/webhooks/{connectionId}/{token}`) or as `?token=`.
 *
 * Log safety: the token is compared in constant time and never copied anywhere. Ingest logs
 * no URL, path or query; answers and errors never echo it; API Gateway's access log records
 * the route key (`POST /webhooks/{connectionId}/{token}`, the template) and no path or query.
 */

/** Shorter than this, a token could be guessed: refuse the connection's secret rather than accept it. */
export const MIN_URL_TOKEN_LENGTH = 24;

/** The accepted tokens of a secret: `{"urlToken": "..."}` or a bare string, each rotatable. */
export function urlTokensOf(secret: unknown): string[] {
  return rotatingValues(secret).map((value) => {
    const token = typeof value === 'string' ? value : value && typeof value === 'object' && 'urlToken' in value ? (value as { urlToken: unknown }).urlToken : undefined;
    if (typeof token !== 'string' || token.length < MIN_URL_TOKEN_LENGTH) {
      throw new Error(`a URL-token secret must be {"urlToken": "<at least ${MIN_URL_TOKEN_LENGTH} random characters>"}`);
    }
    return token;
  });
}

export function verifyUrlToken(delivery: Delivery, secret: unknown): Verified {
  const accepted = urlTokensOf(secret);
  const offered = delivery.urlToken;
  if (offered === undefined || offered === '') throw new WebhookError(401, 'missing_token', 'This connection needs its token in the webhook URL.');
  // Digests have one length, so the comparison time says nothing about the token's length either.
  const offeredDigest = digest(offered);
  if (!accepted.some((token) => timingSafeEqual(acceptedDigest(token), offeredDigest))) {
    throw new WebhookError(401, 'invalid_token', 'The token in the webhook URL is not this connection\'s.');
  }
  return {};
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Digests of the configured tokens, computed once per token rather than per delivery. */
const acceptedDigests = new Map<string, Buffer>();

function acceptedDigest(token: string): Buffer {
  let known = acceptedDigests.get(token);
  if (!known) {
    if (acceptedDigests.size > 1000) acceptedDigests.clear();
    acceptedDigests.set(token, (known = digest(token)));
  }
  return known;
}
