import { ConditionalCheckFailedException, ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { InternalServiceError, ResourceNotFoundException as SecretMissing } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../functions/core/errors.ts';
import { classify } from '../../functions/core/failure.ts';
import { SecretNotFoundError } from '../../functions/core/secrets.ts';
import { StaleWriteError } from '../../functions/core/store.ts';

/** docs/failures.md: only a definite "no" from a vendor is permanent. */
const meta = { $metadata: {} };
const cases: Array<[string, unknown, { permanent: boolean; code: string; outage: boolean; retryAfterSeconds?: number }]> = [
  ['a target\'s documented refusal (PermanentError)', new PermanentError('Minut refused', 'invalid_home', 400), { permanent: true, code: 'invalid_home', outage: false }],
  ['a 429 with Retry-After', new RetryableError('429', 300, 'rate_limited'), { permanent: false, code: 'rate_limited', outage: false, retryAfterSeconds: 300 }],
  ['a 503', new RetryableError('503', undefined, 'http_503'), { permanent: false, code: 'http_503', outage: true }],
  ['a request timeout', new RetryableError('timed out', undefined, 'timeout'), { permanent: false, code: 'timeout', outage: true }],
  ['no response at all', new RetryableError('reset', undefined, 'network_error'), { permanent: false, code: 'network_error', outage: true }],
  ['a DynamoDB throttle', new ProvisionedThroughputExceededException({ message: 'slow down', ...meta }), { permanent: false, code: 'aws_throttled', outage: false }],
  ['a DynamoDB table that is missing (our misconfiguration)', new ResourceNotFoundException({ message: 'no table', ...meta }), { permanent: false, code: 'aws_client_error', outage: false }],
  ['a DynamoDB or SQS call unanswered after the SDK\'s attempts', Object.assign(new Error('a request has exceeded the configured 1500 ms requestTimeout'), { name: 'TimeoutError', code: 'ETIMEDOUT', ...meta }), { permanent: false, code: 'aws_unanswered', outage: false }],
  ['an AWS connection reset after the SDK\'s attempts', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', ...meta }), { permanent: false, code: 'aws_unanswered', outage: false }],
  ['a Secrets Manager hiccup', new InternalServiceError({ message: 'oops', ...meta }), { permanent: false, code: 'aws_server_error', outage: false }],
  ['a secret Secrets Manager does not have', new SecretMissing({ message: 'no secret', ...meta }), { permanent: false, code: 'aws_client_error', outage: false }],
  ['a local secret that is not set', new SecretNotFoundError('secret "x" is not set'), { permanent: false, code: 'secret_unavailable', outage: false }],
  ['a lost optimistic lock', new StaleWriteError('changed underneath'), { permanent: false, code: 'stale_state', outage: false }],
  ['an earlier delivery of the message that may still be creating', new RetryableError('minut: an earlier delivery…', 40, 'earlier_delivery_in_flight'), { permanent: false, code: 'earlier_delivery_in_flight', outage: false, retryAfterSeconds: 40 }],
  ['a conditional check that failed outside the store', new ConditionalCheckFailedException({ message: 'cond', ...meta }), { permanent: false, code: 'aws_client_error', outage: false }],
  ['fetch failing with a connection reset', Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }), { permanent: false, code: 'network_error', outage: true }],
  ['an abort by timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), { permanent: false, code: 'timeout', outage: true }],
  ['our own bug', new TypeError("Cannot read properties of undefined (reading 'x')"), { permanent: false, code: 'internal_error', outage: false }],
  ['something thrown that is not an Error', 'boom', { permanent: false, code: 'internal_error', outage: false }],
];

describe('classify: retryable or permanent, in one place', () => {
  it.each(cases)('%s', (_name, error, expected) => {
    const failure = classify(error);
    expect({ permanent: failure.permanent, code: failure.code, outage: failure.outage, ...(failure.retryAfterSeconds !== undefined ? { retryAfterSeconds: failure.retryAfterSeconds } : {}) }).toEqual(expected);
    expect(failure.message.length).toBeGreaterThan(0);
  });

  it('keeps the cause of a wrapped error', () => {
    const root = new Error('socket hang up');
    const wrapped = new RetryableError('minut: POST failed without a response', undefined, 'network_error', { cause: root });
    expect(wrapped.cause).toBe(root);
    expect(wrapped.name).toBe('RetryableError');
    expect(new StaleWriteError('x').name).toBe('StaleWriteError');
  });
});
