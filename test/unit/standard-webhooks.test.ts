import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyStandardWebhook } from '../../functions/sources/standard-webhooks.ts';
import { signStandardWebhook } from '../../infra/local/standard-webhooks-signer.ts';

// Public Svix / Standard Webhooks vectors (svix-webhooks python tests); the timestamp is from 2021,
// so the clock is injected.
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const timestamp = '1614265330';
const body = '{"test": 2432232314}';
const at = Number(timestamp) * 1000;
const verify = (signature: string, nowMs = at, payload = body, secrets: unknown[] = [secret]) =>
  verifyStandardWebhook(payload, { id, timestamp, signature }, secrets, nowMs);

describe('Standard Webhooks verification', () => {
  it('accepts the official vector and returns the message id as delivery id', () => {
    expect(verify('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')).toEqual({ deliveryId: id });
  });

  it('rejects the official negative vector', () => {
    expect(() => verify('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=')).toThrow(expect.objectContaining({ statusCode: 401, code: 'invalid_signature' }));
  });

  it('accepts a multi-signature header when any v1 entry matches, skipping other versions', () => {
    const header = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    expect(verify(header)).toEqual({ deliveryId: id });
  });

  it('rejects a body that differs by one byte from what was signed', () => {
    expect(() => verify('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', at, '{"test":2432232314}')).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
  });

  it('applies the 5-minute tolerance both ways, each with its own code', () => {
    const good = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
    expect(verify(good, at + 300_000)).toEqual({ deliveryId: id });
    expect(() => verify(good, at + 301_000)).toThrow(expect.objectContaining({ code: 'stale_timestamp' }));
    expect(verify(good, at - 300_000)).toEqual({ deliveryId: id });
    expect(() => verify(good, at - 301_000)).toThrow(expect.objectContaining({ code: 'future_timestamp' }));
  });

  it('reports missing headers and a non-numeric timestamp', () => {
    expect(() => verifyStandardWebhook(body, { id, timestamp: undefined, signature: 'v1,x' }, [secret], at)).toThrow(expect.objectContaining({ code: 'missing_signature' }));
    expect(() => verifyStandardWebhook(body, { id, timestamp: '16142x', signature: 'v1,x' }, [secret], at)).toThrow(expect.objectContaining({ code: 'invalid_signature_headers' }));
  });

  it('accepts the previous secret during a rotation', () => {
    const previous = 'whsec_cHJldmlvdXMtc2VjcmV0LXByZXZpb3VzLXNlY3JldA==';
    const headers = signStandardWebhook(previous, id, Number(timestamp), body);
    expect(verify(headers['webhook-signature']!, at, body, ['whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ=', previous])).toEqual({ deliveryId: id });
    expect(() => verify(headers['webhook-signature']!, at, body, ['whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ='])).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
  });
});

describe('Standard Webhooks verification against the standardwebhooks package', () => {
  it('accepts whatever the package signs, and nothing signed over another body or with another key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes(' ') && !s.includes(',')),
        fc.string({ maxLength: 300, unit: 'binary' }),
        fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
        (key, otherKey, messageId, payload, seconds) => {
          const secret = `whsec_${Buffer.from(key).toString('base64')}`;
          const signature = signStandardWebhook(secret, messageId, seconds, payload)['webhook-signature']!;
          const headers = { id: messageId, timestamp: String(seconds), signature };
          expect(verifyStandardWebhook(payload, headers, [secret], seconds * 1000)).toEqual({ deliveryId: messageId });
          expect(() => verifyStandardWebhook(`${payload}x`, headers, [secret], seconds * 1000)).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
          if (Buffer.compare(Buffer.from(key), Buffer.from(otherKey)) !== 0) {
            const other = `whsec_${Buffer.from(otherKey).toString('base64')}`;
            expect(() => verifyStandardWebhook(payload, headers, [other], seconds * 1000)).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
          }
        },
      ),
      { numRuns: 300, seed: 20261201 },
    );
  });

  it('refuses a secret that is not base64, as the package does', () => {
    expect(() => verify('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', at, body, ['whsec_not base64!'])).toThrow('base64');
    expect(() => verify('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', at, body, [''])).toThrow('whsec_');
  });
});
