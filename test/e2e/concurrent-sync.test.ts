import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { SEASIDE_HOME } from '../support/hostaway.ts';
import { storeFor } from '../support/stack.ts';
import { hostawayRecord, startMinutOnlyStack, syncInstance as syncInstanceOf } from '../support/sync.ts';

/**
 * SQS is at-least-once: the same message can reach two workers at once (a visibility
 * timeout that ran out mid-batch). The store's conditional writes and the create intent
 * must still keep Minut at one guest.
 */
let stack: LocalStack;
beforeAll(async () => {
  // Minut only: this file is about Minut's create intent (all-targets.test.ts races every target).
  stack = await startMinutOnlyStack();
});
afterAll(async () => {
  await stack?.stop();
});

const syncInstance = (name: string) => syncInstanceOf(stack, name);
const messageFor = (id: number, name: string) => hostawayRecord(stack, id, { guestName: name });

const creates = () => stack.sandbox.minut.requestLog().filter((e) => e.route === 'POST /homes/:home_id/guests').length;

describe('the same message on two workers at once', () => {
  it('creates one guest: the loser of the conditional intent write retries instead of creating', async () => {
    const [a, b] = [syncInstance('worker-a'), syncInstance('worker-b')];
    const record = messageFor(760001, 'Twice Delivered');
    const results = await Promise.all([a({ Records: [record] }, localContext('a', 60_000)), b({ Records: [record] }, localContext('b', 60_000))]);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Twice Delivered')).toHaveLength(1);
    expect(creates()).toBe(1);
    // Whichever lost is retried, and its retry finds the guest already synced.
    expect(results.flatMap((r) => r.batchItemFailures).length).toBeLessThanOrEqual(1);
    const retry = await a({ Records: [record] }, localContext('a', 60_000));
    expect(retry.batchItemFailures).toEqual([]);
    expect(creates()).toBe(1);
  });

  it('does not create while another attempt holds a live create intent, and adopts its guest once the intent runs out', async () => {
    const handler = syncInstance('worker-c');
    const record = messageFor(760002, 'Crashed Midway');
    const key = { connectionId: 'hostaway-demo', reservationId: '760002' };
    const desired = { name: 'Crashed Midway', email: 'maria.lindqvist@example.com', phone_number: '+46701234567', checkin_time: '2026-07-10T13:00:00Z', checkout_time: '2026-07-14T09:00:00Z' };
    // Another worker wrote its intent, POSTed, and died before storing the guest id.
    const store = storeFor(stack);
    await store.putTargetState(key, {
      target: 'minut', status: 'absent', targetIds: { homeId: SEASIDE_HOME }, appliedFingerprint: null, lastError: null, warnings: [], ttl: 2_000_000_000, updatedAt: Date.now(), version: 1,
      intent: { fingerprint: 'x', startedAt: Date.now(), inFlightUntil: Date.now() + 60_000, desired },
    });
    stack.sandbox.minut.seedGuest(SEASIDE_HOME, { name: 'Crashed Midway', checkin_time: desired.checkin_time, checkout_time: desired.checkout_time });
    const before = creates();

    // Waiting out the other attempt's lease would hold the worker and the group: parked until the lease ends.
    const blocked = await handler({ Records: [record] }, localContext('c', 60_000));
    expect(blocked.batchItemFailures).toEqual([]);
    const parked = (await store.getTargetState(key, 'minut'))!;
    expect(parked).toMatchObject({ status: 'pending', lastError: { code: 'create_in_progress' } });
    expect(parked.dueAt! - Date.now()).toBeGreaterThan(50_000);
    expect(creates()).toBe(before);

    // The crashed attempt's lease runs out.
    const state = (await store.getTargetState(key, 'minut'))!;
    await store.putTargetState(key, { ...state, intent: { ...state.intent!, inFlightUntil: Date.now() - 1 }, version: state.version + 1 });
    const retried = await handler({ Records: [record] }, localContext('c', 60_000));
    expect(retried.batchItemFailures).toEqual([]);
    expect(creates()).toBe(before);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Crashed Midway')).toHaveLength(1);
    expect(await store.getTargetState(key, 'minut')).toMatchObject({ status: 'synced', intent: null });
  });
});
