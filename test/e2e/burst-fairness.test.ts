import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchConfig, postGeneric } from '../../bench/generic-webhook.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { aReservation } from '../support/reservation.ts';
import { startTestStack, storeFor } from '../support/stack.ts';
import { eventually } from '../support/config.ts';

/**
 * One connection's burst (a PMS replaying a day) must not starve the others: ingest puts the
 * burst on the bulk queue, and another connection's event syncs while the burst still drains.
 */
const BURST = 200;
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ configPath: benchConfig(), minut: { rateLimit: null }, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});

const burstGuests = () => stack.sandbox.minut.guests('home_demo_city').filter((g) => g.name.startsWith('Bench burst-')).length;

describe('a burst on one connection', () => {
  it('does not hold up another connection\'s event, and every guest of the burst arrives once', async () => {
    for (let i = 0; i < BURST; i += 20) {
      // Each answers 202 (postGeneric throws otherwise).
      await Promise.all(Array.from({ length: 20 }, (_, j) => postGeneric(stack, { id: `burst-${i + j}`, guest: { firstName: 'Bench', lastName: `burst-${i + j}` } })));
    }
    await postGeneric(stack, { id: 'other-1', propertyId: 'other-flat', guest: { firstName: 'Bench', lastName: 'other-1' } }, 'generic-other');
    await eventually(() => stack.sandbox.minut.guests('home_demo_seaside').some((g) => g.name === 'Bench other-1'), 60_000, 'the other connection\'s guest');
    // Behind the whole burst on one queue, it would have come only after every burst guest.
    expect(burstGuests()).toBeLessThan(BURST);

    await stack.drain(180_000);
    const names = stack.sandbox.minut.guests('home_demo_city').map((g) => g.name).filter((n) => n.startsWith('Bench burst-'));
    expect(names).toHaveLength(BURST);
    expect(new Set(names).size).toBe(BURST);
    // The burst really went through the bulk queue's workers.
    expect(stack.sandbox.minut.requestLog().some((e) => e.userAgent?.includes('local-bulk-'))).toBe(true);
  }, 300_000);

  it('never lets an earlier delivery of the same version overwrite a later one, whichever queue is drained first', async () => {
    const store = storeFor(stack);
    const base = aReservation({ reservationId: 'tie-1', sourceVersion: 7 });
    const record = (guestName: string, receivedAt: number) => ({ reservation: { ...base, guest: { ...base.guest, fullName: guestName } }, contentHash: guestName, unrouted: false, ttl: 4_000_000_000, storedAt: Date.now(), receivedAt });
    expect((await store.saveSnapshotIfNewer(record('Later', 2_000))).changed).toBe(true);
    // The earlier delivery, processed second (it waited on the bulk queue): kept out.
    const late = await store.saveSnapshotIfNewer(record('Earlier', 1_000));
    expect(late.changed).toBe(false);
    expect(late.stored.reservation.guest.fullName).toBe('Later');
    // A delivery received after it, same version, other content: stored, as before.
    expect((await store.saveSnapshotIfNewer(record('Latest', 3_000))).changed).toBe(true);
  });
});
