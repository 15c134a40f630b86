import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { GUESTY_HOME, GUESTY_LISTING, guestyReservation, sendGuesty, sendSmily, SMILY_HOME, smilyBooking, smilyClient, smilyEnvelope } from '../support/pms.ts';
import { queueDepth, startTestStack, storeFor } from '../support/stack.ts';

/**
 * Notify-then-fetch when the PMS API fails: retried with backoff through the queue, then the
 * DLQ with the reason recorded; nothing dropped. A small maxReceiveCount and a 1 s backoff cap
 * keep the test short.
 */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 3, maxBackoffSeconds: 1 });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.sandbox.minut.reset();
  stack.sandbox.guesty.reset();
  stack.sandbox.smily.reset();
});

function seedGuesty(id: string, name: string) {
  stack.sandbox.guesty.putReservation(guestyReservation({ _id: id, guestId: `g-${id}`, checkInDateLocalized: '2026-12-01', checkOutDateLocalized: '2026-12-03', checkIn: '2026-12-01T14:00:00.000Z', checkOut: '2026-12-03T10:00:00.000Z' }));
  stack.sandbox.guesty.putGuest({ _id: `g-${id}`, fullName: name, email: 'f@example.com' });
}
const lean = (id: string) => ({ event: 'reservation.created.v2', data: { reservationId: id, listingId: GUESTY_LISTING } });

async function dlqMessages(): Promise<{ body: Record<string, unknown> }[]> {
  const out = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 0 }));
  return (out.Messages ?? []).map((m) => ({ body: JSON.parse(m.Body ?? '{}') as Record<string, unknown> }));
}

describe('a failing fetch from the PMS API', () => {
  it('the fetch-error record counts failures (they set the growing backoff) and is deleted on success', async () => {
    const store = storeFor(stack);
    const key = { connectionId: 'guesty-demo', reservationId: 'counted' };
    const error = { source: 'guesty', code: 'http_502', message: 'guesty: GET answered 502', deliveryId: 'msg_x', at: 1, ttl: 2 };
    expect(await store.recordFetchError(key, error)).toBe(1);
    expect(await store.recordFetchError(key, { ...error, code: 'http_503' })).toBe(2);
    expect(await store.getFetchError(key)).toEqual({ ...error, code: 'http_503', failures: 2 });
    await store.clearFetchError(key);
    expect(await store.getFetchError(key)).toBeUndefined();
  });

  it('Guesty: the reservation read answers 500 (more than the in-call retries), then 200: the message is retried and synced', async () => {
    seedGuesty('fail-then-ok', 'Patient Guest');
    // The HTTP client retries a GET 3 times within one attempt; 3 failures fail the whole attempt.
    stack.sandbox.guesty.failNext({ status: 500, count: 3, pathIncludes: '/v1/reservations/fail-then-ok' });
    expect((await sendGuesty(stack, lean('fail-then-ok'))).status).toBe(202);
    await stack.drain(60_000);

    expect(stack.sandbox.minut.guests(GUESTY_HOME).filter((g) => g.name === 'Patient Guest')).toHaveLength(1);
    const reads = stack.sandbox.guesty.requestLog().filter((e) => e.route === 'GET /v1/reservations/:id').map((e) => e.status);
    expect(reads).toEqual([500, 500, 500, 200]);
    // Recorded while failing, cleared by the success.
    expect(await storeFor(stack).getFetchError({ connectionId: 'guesty-demo', reservationId: 'fail-then-ok' })).toBeUndefined();
  });

  it('Guesty: a 429 with Retry-After is waited out before the next request, and the event syncs on its first delivery', async () => {
    seedGuesty('rate-limited', 'Rate Limited');
    stack.sandbox.guesty.failNext({ status: 429, count: 1, retryAfter: 1, pathIncludes: '/v1/reservations/rate-limited' });
    await sendGuesty(stack, lean('rate-limited'));
    await stack.drain(60_000);
    expect(stack.sandbox.minut.guests(GUESTY_HOME).filter((g) => g.name === 'Rate Limited')).toHaveLength(1);
    const log = stack.sandbox.guesty.requestLog().filter((e) => e.route !== 'POST /oauth2/token');
    const limited = log.findIndex((e) => e.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    expect(log[limited + 1]!.at - log[limited]!.at).toBeGreaterThanOrEqual(1000);
    expect(await storeFor(stack).getFetchError({ connectionId: 'guesty-demo', reservationId: 'rate-limited' })).toBeUndefined();
  });

  it('Smily: the client read keeps answering 500: the message lands in the DLQ, the reason is recorded, and a replay after the fix syncs it', async () => {
    stack.sandbox.smily.putClient(smilyClient(6001, { fullname: 'Stuck Client', emails: [{ label: 'default', email: 'stuck@example.com' }] }));
    const booking = smilyBooking({ id: 96001, start_at: '2026-12-10T14:00:00Z', end_at: '2026-12-12T10:00:00Z' }, { client: 6001 });
    stack.sandbox.smily.putBooking(booking);
    stack.sandbox.smily.failAlways({ status: 500, pathIncludes: '/api/v3/clients/6001' });

    const reply = await sendSmily(stack, smilyEnvelope('booking_created', booking));
    expect(reply.status).toBe(202);
    await stack.drain(60_000);

    expect(stack.sandbox.minut.guests(SMILY_HOME)).toHaveLength(0);
    expect(await queueDepth(stack)).toBe(0);
    const dead = await dlqMessages();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.body).toMatchObject({ kind: 'reservation_ref', connectionId: 'smily-demo', reservationId: '96001', deliveryId: reply.body.deliveryId });
    const reason = await storeFor(stack).getFetchError({ connectionId: 'smily-demo', reservationId: '96001' });
    expect(reason).toMatchObject({ source: 'smily', code: 'http_500', deliveryId: reply.body.deliveryId, failures: 3 });
    expect(reason!.message).toBe('smily: GET answered 500 (GET /smily/api/v3/clients/6001)');
    expect(reason!.ttl).toBeGreaterThan(Date.now() / 1000 + 14 * 86_400);

    // The API recovers; the operator replays the DLQ message: nothing was dropped.
    stack.sandbox.smily.clearFaults();
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: JSON.stringify(dead[0]!.body), MessageGroupId: 'smily-demo#96001', MessageDeduplicationId: 'replay-96001' }));
    await stack.drain(60_000);
    expect(stack.sandbox.minut.guests(SMILY_HOME)).toEqual([expect.objectContaining({ name: 'Stuck Client', checkin_time: '2026-12-10T14:00:00.000Z' })]);
    expect(await storeFor(stack).getFetchError({ connectionId: 'smily-demo', reservationId: '96001' })).toBeUndefined();
  });

  it('Guesty: an API that keeps refusing the token (401) is a fetch failure too: new token tried, retried, then DLQ with the reason', async () => {
    seedGuesty('token-refused', 'Token Refused');
    stack.sandbox.guesty.failAlways({ status: 401, pathIncludes: '/v1/reservations/token-refused' });
    await sendGuesty(stack, lean('token-refused'));
    await stack.drain(60_000);
    const reason = await storeFor(stack).getFetchError({ connectionId: 'guesty-demo', reservationId: 'token-refused' });
    expect(reason).toMatchObject({ source: 'guesty', code: 'http_401', failures: 3 });
    // Each attempt dropped the refused token and asked for a fresh one before giving up.
    expect(stack.sandbox.guesty.counters().tokenGrants).toBe(3);
    expect((await dlqMessages()).map((m) => m.body.reservationId)).toContain('token-refused');
  });
});
