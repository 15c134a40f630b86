import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_INTENT_LEASE_MS } from '../../functions/core/budget.ts';
import type { Store } from '../../functions/core/store.ts';
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
  it('creates one guest: the worker that did not store the snapshot retries instead of creating', async () => {
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

/** A store whose target-state writes count, or fail as if the process had died at them. */
function storeWith(real: Store, onPut: () => void): Store {
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property !== 'putTargetState') return Reflect.get(target, property, receiver) as unknown;
      return async (...args: Parameters<Store['putTargetState']>) => {
        onPut();
        return target.putTargetState(...args);
      };
    },
  });
}

/**
 * A worker handles `record` (a new reservation) and every state write it tries fails with `why`:
 * the guest it created stays unrecorded. Minut's creates count after it.
 */
async function createAndDie(name: string, record: ReturnType<typeof messageFor>, why: string): Promise<number> {
  const before = creates();
  const dying = syncInstanceOf(stack, name, {
    store: (real) =>
      storeWith(real, () => {
        throw new Error(why);
      }),
  });
  expect((await dying({ Records: [record] }, localContext(name, 60_000))).batchItemFailures).toHaveLength(1);
  expect(creates()).toBe(before + 1);
  return before + 1;
}

describe("a new reservation's first create: its intent rides on the outcome write", () => {
  it('writes the state once, with the guest id, where the intent took a write of its own', async () => {
    let writes = 0;
    const handler = syncInstanceOf(stack, 'worker-e', { store: (real) => storeWith(real, () => writes++) });
    const result = await handler({ Records: [messageFor(760003, 'Written Once')] }, localContext('e', 60_000));
    expect(result.batchItemFailures).toEqual([]);
    expect(writes).toBe(1);
    const state = await storeFor(stack).getTargetState({ connectionId: 'hostaway-demo', reservationId: '760003' }, 'minut');
    expect(state).toMatchObject({ status: 'synced', intent: null, version: 1, targetIds: { homeId: SEASIDE_HOME, guestId: expect.any(String) } });
  });

  it('an attempt that dies after the create: the same message again waits out the lease, then finds the guest instead of creating a second', async () => {
    const record = messageFor(760004, 'Died After Create');
    const key = { connectionId: 'hostaway-demo', reservationId: '760004' };
    // The process dies once Minut has answered: no state write after the call lands.
    const created = await createAndDie('worker-f', record, 'the process died');
    const store = storeFor(stack);
    expect(await store.getTargetState(key, 'minut')).toBeUndefined();
    // What the crash leaves: the snapshot, naming the targets its attempt may have created at.
    expect((await store.getSnapshot(key))!.heldFor).toEqual(['minut']);

    // Delivered again within the lease (a visibility timeout that ran out early): it neither
    // creates nor writes the state, which the first attempt may still be about to write.
    const again = { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '2' } };
    const soon = await syncInstanceOf(stack, 'worker-g')({ Records: [again] }, localContext('g', 60_000));
    expect(soon.batchItemFailures).toHaveLength(1);
    expect(creates()).toBe(created);
    expect(await store.getTargetState(key, 'minut')).toBeUndefined();

    // After the lease: the guest that create made is found and kept, never made twice.
    const later = syncInstanceOf(stack, 'worker-h', { now: () => Date.now() + CREATE_INTENT_LEASE_MS });
    expect((await later({ Records: [again] }, localContext('h', 60_000))).batchItemFailures).toEqual([]);
    expect(creates()).toBe(created);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Died After Create')).toHaveLength(1);
    expect(await store.getTargetState(key, 'minut')).toMatchObject({ status: 'synced', intent: null });
    expect(stack.sandbox.minut.requestLog().filter((e) => e.route === 'GET /homes/:home_id/guests').length).toBeGreaterThan(0);
  });

  it('the next message, after the first went to the DLQ with its create unrecorded, finds the guest instead of creating a second', async () => {
    const record = messageFor(760006, 'Dead Lettered');
    const key = { connectionId: 'hostaway-demo', reservationId: '760006' };
    const created = await createAndDie('worker-k', record, 'DynamoDB is unavailable');
    // Every delivery of it failed the same way: it is in the DLQ, and the reservation's next message runs.
    const changed = hostawayRecord(stack, 760006, { guestName: 'Dead Lettered', departureDate: '2026-07-15' });
    expect((await syncInstanceOf(stack, 'worker-l')({ Records: [changed] }, localContext('l', 60_000))).batchItemFailures).toEqual([]);
    expect(creates()).toBe(created);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Dead Lettered')).toEqual([expect.objectContaining({ checkout_time: '2026-07-15T09:00:00.000Z' })]);
    expect(await storeFor(stack).getTargetState(key, 'minut')).toMatchObject({ status: 'synced', intent: null });
  });

  it('a copy meeting Minut paused while the first attempt may still be creating writes nothing, so that attempt can still record its guest', async () => {
    const record = messageFor(760007, 'Paused Copy');
    const key = { connectionId: 'hostaway-demo', reservationId: '760007' };
    const created = await createAndDie('worker-m', record, 'the process died');
    const store = storeFor(stack);
    const pause = async (openUntil: number | null) => {
      const circuit = await store.getCircuit('minut');
      await store.putCircuit({ target: 'minut', failures: 0, openUntil, version: (circuit?.version ?? 0) + 1 });
    };
    await pause(Date.now() + 60_000);
    // A park would write the state the first attempt's outcome write expects unwritten.
    expect((await syncInstanceOf(stack, 'worker-n')({ Records: [record] }, localContext('n', 60_000))).batchItemFailures).toHaveLength(1);
    expect(await store.getTargetState(key, 'minut')).toBeUndefined();
    await pause(null);
    const later = syncInstanceOf(stack, 'worker-o', { now: () => Date.now() + CREATE_INTENT_LEASE_MS });
    expect((await later({ Records: [record] }, localContext('o', 60_000))).batchItemFailures).toEqual([]);
    expect(creates()).toBe(created);
    expect(await store.getTargetState(key, 'minut')).toMatchObject({ status: 'synced', intent: null });
  });

  it('another message of the reservation does not look up: the message that stored the snapshot had written its state', async () => {
    const record = messageFor(760005, 'Next Message');
    await syncInstanceOf(stack, 'worker-i')({ Records: [record] }, localContext('i', 60_000));
    const lookups = () => stack.sandbox.minut.requestLog().filter((e) => e.route === 'GET /homes/:home_id/guests').length;
    const before = { creates: creates(), lookups: lookups() };
    const changed = hostawayRecord(stack, 760005, { guestName: 'Next Message', departureDate: '2026-07-15' });
    expect((await syncInstanceOf(stack, 'worker-j')({ Records: [changed] }, localContext('j', 60_000))).batchItemFailures).toEqual([]);
    expect({ creates: creates(), lookups: lookups() }).toEqual(before);
  });
});
