import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_SCHEMA_VERSION, type Queue, type QueueMessage, type TargetWorkMessage } from '../../functions/core/queue.ts';
import type { Store, TargetState } from '../../functions/core/store.ts';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { eventually, exampleConfigWith } from '../support/config.ts';
import { SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY, hostawayDelivery } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';
import { hostawayRecord, startMinutOnlyStack, syncInstance } from '../support/sync.ts';

/**
 * Lanes (docs/throughput.md, "Each target drains its own backlog"): a target whose turn is far
 * off gets its work on its own queue, so the other targets of the same reservations go on at
 * their own pace; the hand-off mark keeps each reservation's work at a target with one caller.
 */
describe('a slow target under a backlog', () => {
  const RESERVATIONS = 30;
  let stack: LocalStack;
  beforeAll(async () => {
    // Kasify at one call a second, Minut at 4: without lanes, every batch of 10 waits for Kasify,
    // so Minut is never more than a batch ahead of it.
    const configPath = exampleConfigWith((config) => {
      config.targets.kasify.requestsPerSecond = 1;
      config.targets.kasify.burst = 1;
      config.targets.minut.requestsPerSecond = 4;
      config.connections['hostaway-demo'].properties['219407'].targets = { minut: { homeId: SEASIDE_HOME }, kasify: { propertyId: SEASIDE_KASIFY_PROPERTY } };
    });
    stack = await startTestStack({ configPath, sweepIntervalMs: null });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('holds no other target back: Minut has every guest while Kasify is still at the first half', async () => {
    for (let i = 0; i < RESERVATIONS; i++) {
      const id = 880000 + i;
      const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id, guestName: `Lane Guest ${id}`, guestFirstName: 'Lane Guest', guestLastName: String(id), guestEmail: `lane.${id}@example.com` }));
      expect(reply.status).toBe(202);
    }
    const minutGuests = () => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Lane Guest '));
    const kasifyBookings = () => stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).filter((b) => b.channel_id?.startsWith('hostaway-demo:880'));
    await eventually(() => minutGuests().length === RESERVATIONS, 120_000, 'every guest at Minut');
    // Kasify needs 30 s for 30 creates; Minut got all of them without waiting for it. Without
    // lanes a batch of 10 waits for Kasify, so Kasify would hold at least 20 by then (the two
    // batches before the last). On a busy machine Minut's 30 take longer than its 7.5 s of turns:
    // the bound is the batch, not a time.
    expect(kasifyBookings().length).toBeLessThan(RESERVATIONS - 10);

    await stack.drain(180_000);
    expect(new Set(minutGuests().map((g) => g.name)).size).toBe(RESERVATIONS);
    expect(minutGuests()).toHaveLength(RESERVATIONS);
    const kasify = kasifyBookings().map((b) => b.channel_id);
    expect(kasify).toHaveLength(RESERVATIONS);
    expect(new Set(kasify).size).toBe(RESERVATIONS);
    for (const log of [stack.sandbox.minut.requestLog(), stack.sandbox.kasify.requestLog()]) expect(log.filter((e) => e.status === 429)).toEqual([]);

    // Every hand-off was handed back, and the trace says who did the work.
    const store = storeFor(stack);
    const kasifyStates: TargetState[] = [];
    for (let i = 0; i < RESERVATIONS; i++) {
      const key = { connectionId: 'hostaway-demo', reservationId: String(880000 + i) };
      for (const state of await store.listTargetStates(key)) {
        expect({ target: state.target, status: state.status, handoff: state.handoff ?? null }).toEqual({ target: state.target, status: 'synced', handoff: null });
        if (state.target === 'kasify') kasifyStates.push(state);
      }
    }
    expect(kasifyStates).toHaveLength(RESERVATIONS);
    const steps = (await Promise.all(Array.from({ length: RESERVATIONS }, (_, i) => store.listTrace({ connectionId: 'hostaway-demo', reservationId: String(880000 + i) })))).flat();
    const kasifyActions = steps.flatMap((step) => step.targets.filter((t) => t.target === 'kasify').map((t) => `${step.via}:${t.action}`));
    expect(kasifyActions).toContain('delivery:handed_off');
    expect(kasifyActions).toContain('lane:created');
    expect(kasifyActions.filter((a) => a.endsWith(':created'))).toHaveLength(RESERVATIONS);
  }, 300_000);
});

describe('the hand-off mark', () => {
  let stack: LocalStack;
  let store: Store;
  const key = { connectionId: 'hostaway-demo', reservationId: '881001' };
  const sentToLane: TargetWorkMessage[] = [];
  const laneQueue: Queue = {
    send: async () => undefined,
    hasLane: () => true,
    sendToLane: async (message) => void sentToLane.push(message),
    delay: async () => undefined,
    deadLetter: async () => undefined,
  };
  beforeAll(async () => {
    stack = await startMinutOnlyStack();
    store = storeFor(stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const guestNames = () => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Mark ')).map((g) => g.name);
  const minutWrites = () => stack.sandbox.minut.requestLog().filter((e) => e.method !== 'GET' && !e.path.includes('/oauth/')).length;
  const delivery = (lastName: string) => hostawayRecord(stack, 881001, { guestName: `Mark ${lastName}`, guestFirstName: 'Mark', guestLastName: lastName });
  const mark = async (seq: string, untilFromNow: number) => {
    const state = (await store.getTargetState(key, 'minut'))!;
    await store.putTargetState(key, { ...state, handoff: { seq, until: Date.now() + untilFromNow, dirty: false }, version: state.version + 1 });
  };

  it('a delivery leaves a held target to its lane, which then applies the newest snapshot', async () => {
    const main = syncInstance(stack, 'main-1', { queue: laneQueue });
    await main({ Records: [delivery('First')] }, localContext('lanes', 60_000));
    expect(guestNames()).toEqual(['Mark First']);

    await mark('s1', 60_000);
    const writes = minutWrites();
    const reply = await main({ Records: [delivery('Second')] }, localContext('lanes', 60_000));
    expect(reply.batchItemFailures).toEqual([]);
    // Not called: the lane holds the work. The mark says the snapshot changed; the lane's message is sent again.
    expect(minutWrites()).toBe(writes);
    expect((await store.getTargetState(key, 'minut'))!.handoff).toMatchObject({ seq: 's1', dirty: true });
    expect(sentToLane.map((m) => m.seq)).toEqual(['s1']);

    const lane = syncInstance(stack, 'lane-minut', { queue: laneQueue });
    await lane({ Records: [laneRecord(sentToLane[0]!)] }, localContext('lanes', 60_000));
    expect(guestNames()).toEqual(['Mark Second']);
    expect((await store.getTargetState(key, 'minut'))!.handoff).toBeNull();
    const trace = await store.listTrace(key);
    expect(trace.map((step) => `${step.via}:${step.targets.map((t) => t.action).join(',')}`)).toEqual(['delivery:created', 'delivery:with_lane', 'lane:updated']);

    // A copy of the lane's message after it handed back finds nothing of its own to do.
    const after = minutWrites();
    await lane({ Records: [laneRecord(sentToLane[0]!)] }, localContext('lanes', 60_000));
    expect(minutWrites()).toBe(after);
  }, 60_000);

  it('a lane that reads the snapshot before a delivery changes it goes again before it hands back', async () => {
    await mark('s2', 60_000);
    const main = syncInstance(stack, 'main-2', { queue: laneQueue });
    // A change the lane has to make (a call, and state writes after it)...
    await main({ Records: [delivery('Interim')] }, localContext('lanes', 60_000));
    expect(guestNames()).toEqual(['Mark Second']);
    let raced = false;
    // ...and another delivery landing between the lane's read of the snapshot and its call.
    const lane = syncInstance(stack, 'lane-minut-2', {
      queue: laneQueue,
      store: (real) =>
        new Proxy(real, {
          get(target, prop, receiver) {
            if (prop !== 'getSnapshot') return Reflect.get(target, prop, receiver) as unknown;
            return async (k: typeof key) => {
              const read = await target.getSnapshot(k);
              if (!raced) {
                raced = true;
                await main({ Records: [delivery('Third')] }, localContext('lanes', 60_000));
              }
              return read;
            };
          },
        }),
    });
    await lane({ Records: [laneRecord({ v: QUEUE_SCHEMA_VERSION, kind: 'target', connectionId: key.connectionId, reservationId: key.reservationId, target: 'minut', seq: 's2' })] }, localContext('lanes', 60_000));
    expect(raced).toBe(true);
    expect(guestNames()).toEqual(['Mark Third']);
    expect((await store.getTargetState(key, 'minut'))!.handoff).toBeNull();
  }, 60_000);

  it('a lapsed mark is taken back before the target is called, and its late lane message does nothing', async () => {
    await mark('s3', -1_000);
    const main = syncInstance(stack, 'main-3', { queue: laneQueue });
    await main({ Records: [delivery('Fourth')] }, localContext('lanes', 60_000));
    expect(guestNames()).toEqual(['Mark Fourth']);
    expect((await store.getTargetState(key, 'minut'))!.handoff).toBeNull();
    const writes = minutWrites();
    const lane = syncInstance(stack, 'lane-minut-3', { queue: laneQueue });
    await lane({ Records: [laneRecord({ v: QUEUE_SCHEMA_VERSION, kind: 'target', connectionId: key.connectionId, reservationId: key.reservationId, target: 'minut', seq: 's3' })] }, localContext('lanes', 60_000));
    expect(minutWrites()).toBe(writes);
    expect(guestNames()).toEqual(['Mark Fourth']);
  }, 60_000);

  it('erasure waits for the lane to hand the work back', async () => {
    await mark('s4', 60_000);
    const main = syncInstance(stack, 'main-4', { queue: laneQueue });
    const erase: QueueMessage = { v: QUEUE_SCHEMA_VERSION, kind: 'erase', connectionId: key.connectionId, reservationId: key.reservationId, requestedAt: Date.now() };
    const reply = await main({ Records: [recordOf(erase, 'erase-1')] }, localContext('lanes', 60_000));
    expect(reply.batchItemFailures).toEqual([{ itemIdentifier: 'erase-1' }]);
    expect(guestNames()).toEqual(['Mark Fourth']);

    // The lane finds the tombstone, hands back, and the erasure goes through.
    const lane = syncInstance(stack, 'lane-minut-4', { queue: laneQueue });
    await lane({ Records: [laneRecord({ v: QUEUE_SCHEMA_VERSION, kind: 'target', connectionId: key.connectionId, reservationId: key.reservationId, target: 'minut', seq: 's4' })] }, localContext('lanes', 60_000));
    expect(guestNames()).toEqual(['Mark Fourth']);
    const again = await main({ Records: [recordOf(erase, 'erase-2')] }, localContext('lanes', 60_000));
    expect(again.batchItemFailures).toEqual([]);
    expect(guestNames()).toEqual([]);
  }, 60_000);
});

function laneRecord(message: TargetWorkMessage): SQSRecord {
  return recordOf(message, `lane-${message.seq}-${Math.random()}`, `arn:aws:sqs:us-east-1:000000000000:guest-sync-lane-${message.target}.fifo`);
}

function recordOf(message: QueueMessage, messageId: string, arn = 'arn:aws:sqs:us-east-1:000000000000:guest-sync-events.fifo'): SQSRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body: JSON.stringify(message),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: `${message.connectionId}#881001` },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: 'us-east-1',
  };
}
