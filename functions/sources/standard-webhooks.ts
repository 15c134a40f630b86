import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookError } from '../core/errors.ts';

/**
 * Standard Webhooks (Svix) verification over the raw body: the `v1` signature is the base64
 * HMAC-SHA256 of `<id>.<timestamp>.<body>` under the decoded `whsec_` key. Node's HMAC computes
 * it: the `standardwebhooks` package's pure-JS SHA-256 was the largest part of the generic and
 * Guesty hot paths (docs/throughput.md). The package still signs, on the sender's side
 * (infra/local/standard-webhooks-signer.ts: the demo, the bench, tests), and a property test
 * checks the two agree. We read the headers and check the timestamp ourselves so
 * the clock can be injected and each failure gets its own error code. Several space-separated
 * signatures may be sent; any `v1` match passes.
 */
export const TOLERANCE_SECONDS = 5 * 60;

export interface StandardWebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export function verifyStandardWebhook(
  rawBody: string,
  headers: StandardWebhookHeaders,
  secrets: unknown[],
  nowMs: number,
  /** How the headers are named in the error sentence (Guesty sends `svix-*` or `webhook-*`). */
  headerNames = 'webhook-id, webhook-timestamp and webhook-signature',
): { deliveryId: string } {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) {
    throw new WebhookError(401, 'missing_signature', `The ${headerNames} headers are required.`);
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new WebhookError(401, 'invalid_signature_headers', 'The webhook-timestamp header must be whole Unix seconds.');
  }
  const seconds = Number(timestamp);
  const now = Math.floor(nowMs / 1000);
  if (now - seconds > TOLERANCE_SECONDS) {
    throw new WebhookError(401, 'stale_timestamp', 'The webhook timestamp is more than 5 minutes old; the delivery may be a replay.');
  }
  if (seconds - now > TOLERANCE_SECONDS) {
    throw new WebhookError(401, 'future_timestamp', 'The webhook timestamp is more than 5 minutes in the future; check the sender clock.');
  }
  const offered = signature
    .split(' ')
    .map((entry) => entry.split(','))
    .filter(([version, value]) => version === 'v1' && !!value)
    .map(([, value]) => Buffer.from(value!));
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', keyOf(secret)).update(`${id}.${seconds}.${rawBody}`).digest('base64'));
    if (offered.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) {
      return { deliveryId: id };
    }
  }
  throw new WebhookError(401, 'invalid_signature', 'No webhook signature matches the body and the configured secret.');
}

/** Decoded keys by secret: a connection's secret is decoded once, not per delivery. */
const keys = new Map<string, Buffer>();

/** The HMAC key of a `whsec_<base64>` secret (the prefix is optional, as in the package). */
function keyOf(secret: unknown): Buffer {
  if (typeof secret !== 'string' || secret === '') throw new Error('a Standard Webhooks secret must be a "whsec_..." string');
  let key = keys.get(secret);
  if (!key) {
    const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    key = Buffer.from(encoded, 'base64');
    // Node's decoder skips what is not base64; the package refuses it, and so do we.
    if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) throw new Error('a Standard Webhooks secret must be "whsec_" and base64');
    if (keys.size > 1000) keys.clear();
    keys.set(secret, key);
  }
  return key;
}
