import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { InternalServiceError } from '@aws-sdk/client-secrets-manager';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SecretStore } from '../../functions/core/secrets.ts';
import type { Store, TargetState } from '../../functions/core/store.ts';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { TestClock } from '../support/clock.ts';
import { SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY } from '../support/hostaway.ts';
import { resetTargetSandboxes, startTestStack, storeFor } from '../support/stack.ts';
import { hostawayRecord, syncInstance } from '../support/sync.ts';

/**
 * Sync under real faults, through the sync handler against the sandboxes and the embedded
 * DynamoDB: what once became permanent is retried and syncs; a long Retry-After never makes
 * the worker sleep; an older snapshot is never applied after a newer one.
 */
const clock = new TestClock('2026-07-11T10:00:00Z'); // inside the fixture's stay: all four targets hold the guest
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ syncWorkers: 0, now: clock.now, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => resetTargetSandboxes(stack));

const key = (id: number) => ({ connectionId: 'hostaway-demo', reservationId: String(id) });
const statuses = async (id: number) => Object.fromEntries((await storeFor(stack).listTargetStates(key(id))).map((s) => [s.target, s.status]));
const meta = { $metadata: {} };

describe('transient failures inside a target\'s work are retried, never stored as permanent', () => {
  it("a DynamoDB throttle on Minut's first state write, after its create: retried, the guest found, never created twice", async () => {
    let throttled = 0;
    // A new reservation's first create writes its intent with its outcome (docs/failures.md): that write is throttled.
    const throttleFirstMinutWrite = (store: Store): Store =>
      Object.assign(Object.create(store) as Store, {
        putTargetState: async (k: Parameters<Store['putTargetState']>[0], state: TargetState) => {
          if (state.target === 'minut' && throttled++ === 0) throw new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', ...meta });
          return store.putTargetState(k, state);
        },
      });
    const handler = syncInstance(stack, 'throttled', { store: throttleFirstMinutWrite, now: clock.now });
    const record = hostawayRecord(stack, 870001, { guestName: 'Throttle Once' });

    const first = await handler({ Records: [record] }, localContext('sync', 60_000));
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    const minut = await storeFor(stack).getTargetState(key(870001), 'minut');
    expect(minut).toMatchObject({ status: 'retrying', lastError: { code: 'aws_throttled', permanent: false } });
    expect(await statuses(870001)).toMatchObject({ recepai: 'synced', kasify: 'synced', hostelmate: 'synced' });

    const second = await handler({ Records: [record] }, localContext('sync', 60_000));
    expect(second.batchItemFailures).toEqual([]);
    expect(await statuses(870001)).toMatchObject({ minut: 'synced' });
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Throttle Once')).toHaveLength(1);
    // Found by a look-up, at once: the failure recorded says the create is over.
    expect(stack.sandbox.minut.requestLog().map((e) => e.route).filter((r) => r.startsWith('POST /homes') || r === 'GET /homes/:home_id/guests')).toEqual(['POST /homes/:home_id/guests', 'GET /homes/:home_id/guests']);
  });

  it('a Secrets Manager hiccup reading Kasify\'s token: retried, then synced', async () => {
    let failures = 0;
    const flaky = (secrets: SecretStore): SecretStore => ({
      get: (name) => (name === 'kasify' && failures++ === 0 ? Promise.reject(new InternalServiceError({ message: 'Internal service error', ...meta })) : secrets.get(name)),
    });
    const handler = syncInstance(stack, 'secrets', { secrets: flaky, now: clock.now });
    const record = hostawayRecord(stack, 870002, { guestName: 'Secret Hiccup' });
    expect((await handler({ Records: [record] }, localContext('sync', 60_000))).batchItemFailures).toHaveLength(1);
    expect(await storeFor(stack).getTargetState(key(870002), 'kasify')).toMatchObject({ status: 'retrying', lastError: { code: 'aws_server_error', permanent: false } });
    expect((await handler({ Records: [record] }, localContext('sync', 60_000))).batchItemFailures).toEqual([]);
    expect(stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).filter((b) => b.channel_id === 'hostaway-demo:870002')).toHaveLength(1);
  });
});

describe('a long Retry-After parks the target\'s work; the worker does not sleep', () => {
  it('Kasify answering 429 with Retry-After: 300 is pending until then, the message completes, the others sync', async () => {
    const handler = syncInstance(stack, 'patient', { now: clock.now });
    stack.sandbox.kasify.failNext({ status: 429, retryAfter: 300, method: 'POST' });
    const started = Date.now();
    const before = clock.now();
    const result = await handler({ Records: [hostawayRecord(stack, 870003, { guestName: 'Long Wait' })] }, localContext('sync', 60_000));
    expect(result.batchItemFailures).toEqual([]);
    const kasify = (await storeFor(stack).getTargetState(key(870003), 'kasify'))!;
    expect(kasify).toMatchObject({ status: 'pending', lastError: { code: 'rate_limited' } });
    // Due 300 s after the 429, which came after `before` (however long the message then took).
    expect(kasify.dueAt!).toBeGreaterThanOrEqual(before + 300_000);
    expect(kasify.dueAt!).toBeLessThanOrEqual(clock.now() + 300_000);
    expect(await statuses(870003)).toMatchObject({ minut: 'synced', recepai: 'synced', hostelmate: 'synced' });

    // The same worker's next reservation: Kasify is parked again at once, not slept through.
    const next = await handler({ Records: [hostawayRecord(stack, 870004, { guestName: 'Next In Line' })] }, localContext('sync', 60_000));
    expect(next.batchItemFailures).toEqual([]);
    expect(await storeFor(stack).getTargetState(key(870004), 'kasify')).toMatchObject({ status: 'pending' });
    expect(await statuses(870004)).toMatchObject({ minut: 'synced', hostelmate: 'synced' });
    // Far less than the 300 s asked for; the bound only shows the wait was not taken.
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});

describe('a time budget per invocation', () => {
  it('a message is not started with too little time left: it comes back untouched, not counted as a failed attempt', async () => {
    const handler = syncInstance(stack, 'late', { now: clock.now });
    const record = hostawayRecord(stack, 870007, { guestName: 'Too Late' });
    const calls = stack.sandbox.minut.requestLog().length;
    // 10 s left: less than one bounded attempt (15 s) once the 5 s margin is kept.
    const result = await handler({ Records: [record] }, localContext('sync', 10_000));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(stack.sandbox.minut.requestLog().length).toBe(calls);
    expect(await storeFor(stack).listTargetStates(key(870007))).toEqual([]);
    // With a full budget it syncs.
    expect((await handler({ Records: [record] }, localContext('sync', 60_000))).batchItemFailures).toEqual([]);
    expect(await statuses(870007)).toMatchObject({ minut: 'synced', kasify: 'synced' });
  });
});

describe('a cancel after a create whose answer was lost', () => {
  it('finds the guest that create made in Minut and removes it, instead of leaving it behind', async () => {
    const key870008 = key(870008);
    const desired = { name: 'Lost Then Cancelled', email: null, phone_number: null, checkin_time: '2026-07-10T13:00:00Z', checkout_time: '2026-07-14T09:00:00Z' };
    // The create reached Minut, its answer did not, and its lease has run out.
    stack.sandbox.minut.seedGuest(SEASIDE_HOME, { name: desired.name, checkin_time: desired.checkin_time, checkout_time: desired.checkout_time });
    await storeFor(stack).putTargetState(key870008, {
      target: 'minut', status: 'retrying', targetIds: { homeId: SEASIDE_HOME }, appliedFingerprint: null, lastError: null, warnings: [], ttl: 2_000_000_000, updatedAt: Date.now(), version: 1,
      intent: { fingerprint: 'x', startedAt: clock.now() - 120_000, inFlightUntil: 0, desired },
    });
    const handler = syncInstance(stack, 'cancel-after-lost', { now: clock.now });
    const result = await handler({ Records: [hostawayRecord(stack, 870008, { guestName: desired.name, status: 'cancelled' })] }, localContext('sync', 60_000));
    expect(result.batchItemFailures).toEqual([]);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === desired.name)).toEqual([]);
    expect(await storeFor(stack).getTargetState(key870008, 'minut')).toMatchObject({ status: 'absent', intent: null });
  });
});

describe('never older after newer', () => {
  it('a snapshot older than the one a target last got is not applied, whichever group carries it', async () => {
    const handler = syncInstance(stack, 'ordering', { now: clock.now });
    const newer = hostawayRecord(stack, 870005, { guestName: 'Newer Name' });
    const older = hostawayRecord(stack, 870006, { guestName: 'Older Name' }); // built second, so give it an older version below
    expect((await handler({ Records: [newer] }, localContext('sync', 60_000))).batchItemFailures).toEqual([]);
    const newerVersion = (await storeFor(stack).getTargetState(key(870005), 'minut'))!.appliedVersion!;
    // The race a client's resync can lose: its older snapshot reaches the target after the newer one.
    const body = JSON.parse(older.body) as { reservation: { reservationId: string; sourceVersion: number } };
    body.reservation.reservationId = '870005';
    body.reservation.sourceVersion = newerVersion - 60_000;
    const calls = stack.sandbox.minut.requestLog().length;
    // Forget the stored snapshot so the older one is stored, as a concurrent worker would have held it.
    await DynamoDBDocumentClient.from(stack.dynamodb).send(new DeleteCommand({ TableName: stack.tableName, Key: { pk: 'RES#hostaway-demo#870005', sk: 'SNAPSHOT' } }));
    const result = await handler({ Records: [{ ...older, body: JSON.stringify(body) }] }, localContext('sync', 60_000));
    expect(result.batchItemFailures).toEqual([]);
    expect(stack.sandbox.minut.requestLog().length).toBe(calls);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Newer Name')).toHaveLength(1);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Older Name')).toHaveLength(0);
  });
});
