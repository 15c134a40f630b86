import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainTurn } from '../../functions/core/parking.ts';
import { QUEUE_SCHEMA_VERSION, messageBody, sqsEntry, type QueueMessage } from '../../functions/core/queue.ts';
import { emptyGuest } from '../../functions/core/reservation.ts';
import { runtimeFromEnv } from '../../functions/core/runtime.ts';
import { signStandardWebhook } from '../../infra/local/standard-webhooks-signer.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { eventually } from '../support/config.ts';
import { aReservation } from '../support/reservation.ts';
import { postWebhook, startTestStack, storeFor } from '../support/stack.ts';

/**
 * Fairness (docs/throughput.md): one connection's burst is parked and fed to the queue a turn
 * at a time, so another connection's events are synced while the burst is still draining,
 * instead of queued behind all of it; and nothing of the burst is lost or applied twice.
 */
const SECRET = 'whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5LTMyYnl0ZXM='; // generic-demo's, config/secrets.example.json
const BURST = 80;

function fairnessConfig(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'guest-sync-fairness-')), 'config.json');
  const property = (homeId: string) => ({ timeZone: 'Europe/Berlin', targets: { minut: { homeId } } });
  writeFileSync(
    path,
    JSON.stringify({
      connections: {
        'busy-pms': { pms: 'generic', secret: 'generic-demo', properties: { 'busy-flat': property('home_demo_city') } },
        'quiet-pms': { pms: 'generic', secret: 'generic-demo', properties: { 'quiet-flat': property('home_demo_seaside') } },
      },
      // Minut paced at 10/s, so the burst takes seconds to sync; a burst is more than 10 events a minute.
      targets: { minut: { baseUrl: 'http://127.0.0.1:4010/minut/v8', credentials: 'minut', requestsPerSecond: 10 } },
      burstParking: { events: 10, windowSeconds: 60, turn: 5 },
    }),
  );
  return path;
}

let version = 0;
async function send(connectionId: string, propertyId: string, id: string): Promise<void> {
  version++;
  const body = JSON.stringify({
    type: 'reservation.upserted',
    reservation: { id, propertyId, status: 'confirmed', checkInDate: '2027-03-01', checkOutDate: '2027-03-04', version, guest: { firstName: 'Fair', lastName: id } },
  });
  const reply = await postWebhook(stack, connectionId, body, signStandardWebhook(SECRET, `fair-${version}`, Math.floor(Date.now() / 1000), body));
  expect(reply.status).toBe(202);
}

const names = (homeId: string) => stack.sandbox.minut.guests(homeId).map((g) => g.name);

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ configPath: fairnessConfig(), minut: { rateLimit: null }, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});

describe('a burst on one connection', () => {
  it('does not hold back another connection: its event syncs while the burst is still draining, and the burst arrives whole, once', async () => {
    // Sent ten at a time, so the burst is in before much of it can sync, however busy the machine.
    for (let i = 0; i < BURST; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => send('busy-pms', 'busy-flat', `burst-${i + j}`)));
    const syncedBeforeQuietSent = names('home_demo_city').length;
    await send('quiet-pms', 'quiet-flat', 'quiet-1');
    await eventually(() => names('home_demo_seaside').includes('Fair quiet-1'), 60_000, 'the quiet connection synced');
    // Queued behind the rest of the burst (no parking), it would have waited for all of it; it waits for a turn or two.
    const syncedWhileQuietWaited = names('home_demo_city').length - syncedBeforeQuietSent;
    expect(syncedWhileQuietWaited).toBeLessThan((BURST - syncedBeforeQuietSent) / 2);

    await stack.drain(120_000);
    const burst = names('home_demo_city');
    expect(burst).toHaveLength(BURST);
    expect(new Set(burst).size).toBe(BURST);
    expect(await storeFor(stack).listParked('busy-pms', 10)).toEqual([]);
    // The drain let its lease go: a new one can start at once.
    expect(await storeFor(stack).holdDrain('busy-pms', 'probe', Date.now() + 1000, Date.now())).toBe(true);
    await storeFor(stack).releaseDrain('busy-pms', 'probe');
  }, 180_000);

  it('a drain that died (its message set aside) is started again by the sweep, never while another holds the lease', async () => {
    const store = storeFor(stack);
    const message: QueueMessage = {
      v: QUEUE_SCHEMA_VERSION,
      kind: 'reservation',
      connectionId: 'quiet-pms',
      deliveryId: 'orphaned-1',
      receivedAt: Date.now(),
      reservation: aReservation({ connectionId: 'quiet-pms', reservationId: 'orphaned-1', propertyId: 'quiet-flat', stay: { checkInDate: '2027-03-01', checkOutDate: '2027-03-04', checkInTime: null, checkOutTime: null, timeZone: null }, guest: { ...emptyGuest, firstName: 'Fair', lastName: 'orphaned-1' } }),
    };
    await store.parkMessages('quiet-pms', [{ at: Date.now(), id: sqsEntry(message).MessageDeduplicationId, body: messageBody(message) }], Math.floor(Date.now() / 1000) + 3600);

    expect(await store.holdDrain('quiet-pms', 'live-drain', Date.now() + 60_000, Date.now())).toBe(true);
    expect((await stack.sweep()).drainsRestarted).toBe(0);
    expect(await store.listParked('quiet-pms', 10)).toHaveLength(1);

    await store.releaseDrain('quiet-pms', 'live-drain');
    expect((await stack.sweep()).drainsRestarted).toBe(1);
    await eventually(() => names('home_demo_seaside').includes('Fair orphaned-1'), 60_000, 'the parked reservation synced');
    await stack.drain(60_000);
    expect(await store.listParked('quiet-pms', 10)).toEqual([]);
  }, 120_000);

  it('a turn that crashed after sending and before deleting is sent again without a second guest', async () => {
    const store = storeFor(stack);
    const ids = ['again-1', 'again-2', 'again-3'];
    const messages: QueueMessage[] = ids.map((id) => ({
      v: QUEUE_SCHEMA_VERSION,
      kind: 'reservation',
      connectionId: 'quiet-pms',
      deliveryId: id,
      receivedAt: Date.now(),
      reservation: aReservation({ connectionId: 'quiet-pms', reservationId: id, propertyId: 'quiet-flat', stay: { checkInDate: '2027-03-01', checkOutDate: '2027-03-04', checkInTime: null, checkOutTime: null, timeZone: null }, guest: { ...emptyGuest, firstName: 'Fair', lastName: id } }),
    }));
    await store.parkMessages('quiet-pms', messages.map((m, i) => ({ at: Date.now() + i, id: sqsEntry(m).MessageDeduplicationId, body: messageBody(m) })), Math.floor(Date.now() / 1000) + 3600);
    const { queue } = runtimeFromEnv({ ...process.env, ...stack.env });
    const drain = { v: QUEUE_SCHEMA_VERSION, kind: 'drain', connectionId: 'quiet-pms', drainId: 'crashing', turn: 0 } as const;
    const crashing = Object.create(store, { deleteParked: { value: async () => Promise.reject(new Error('killed before the delete')) } }) as typeof store;
    await expect(drainTurn(drain, { store: crashing, queue, now: Date.now, turnSize: 10 })).rejects.toThrow('killed before the delete');
    // SQS brings the drain message back; the same turn runs again.
    expect(await drainTurn(drain, { store, queue, now: Date.now, turnSize: 10 })).toEqual({ moved: 3, next: true });
    await stack.drain(60_000);
    for (const id of ids) expect(names('home_demo_seaside').filter((name) => name === `Fair ${id}`)).toHaveLength(1);
    expect(await store.listParked('quiet-pms', 10)).toEqual([]);
  }, 120_000);
});
