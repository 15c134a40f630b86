import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { TestClock } from '../support/clock.ts';
import { hostawayDelivery } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/**
 * RecepAI holds in-house guests: check-in when the stay begins, check-out when it ends or is
 * cancelled. Time drives it: the clock is injected and the sweep is run by hand at chosen
 * instants (on AWS: every 5 minutes by EventBridge; locally: a timer).
 */
const clock = new TestClock('2026-10-20T12:00:00Z');
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ now: clock.now, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});

const SLUG = 'seaside-hotel';
const guestsOf = (id: number) => stack.sandbox.recepai.guests(SLUG).filter((g) => g.pmsGuestId === `hostaway-demo:${id}`);
const checkins = () => stack.sandbox.recepai.requestLog().filter((e) => e.route === 'POST /:slug/guests/checkin').length;

async function sweepAt(instant: string): Promise<number> {
  clock.set(instant);
  const { enqueued } = await stack.sweep();
  await stack.drain();
  return enqueued;
}

describe('RecepAI check-in and check-out follow the clock', () => {
  it('checks in at the local check-in time and out at the local check-out time, across the autumn DST change', async () => {
    const id = 810001;
    // Stockholm: 23 Oct 15:00 is UTC+2 (13:00Z); 27 Oct 11:00 is UTC+1 (10:00Z), after DST ends on 25 Oct.
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id, guestName: 'Inhouse Dst', guestFirstName: 'Inhouse', guestLastName: 'Dst', arrivalDate: '2026-10-23', departureDate: '2026-10-27', checkInTime: 15, checkOutTime: 11 }));
    await stack.drain();
    expect(guestsOf(id)).toEqual([]);
    const key = { connectionId: 'hostaway-demo', reservationId: String(id) };
    expect(await storeFor(stack).getTargetState(key, 'recepai')).toMatchObject({ status: 'absent', dueAt: Date.parse('2026-10-23T13:00:00Z') });
    // The other targets did not wait for the stay.
    expect(await storeFor(stack).getTargetState(key, 'kasify')).toMatchObject({ status: 'synced' });

    expect(await sweepAt('2026-10-23T12:59:59Z')).toBe(0);
    expect(guestsOf(id)).toEqual([]);
    expect(await sweepAt('2026-10-23T13:00:00Z')).toBe(1);
    expect(guestsOf(id)).toEqual([expect.objectContaining({ roomNumber: '301', checkInDate: '2026-10-23', checkOutDate: '2026-10-27', checkedOutAt: null })]);
    expect(await storeFor(stack).getTargetState(key, 'recepai')).toMatchObject({ status: 'synced', dueAt: Date.parse('2026-10-27T10:00:00Z') });

    // 09:00Z would be 11:00 under summer time; on 27 October it is 10:00 local: still in house.
    expect(await sweepAt('2026-10-27T09:00:00Z')).toBe(0);
    expect(guestsOf(id)[0]!.checkedOutAt).toBeNull();
    expect(await sweepAt('2026-10-27T10:00:00Z')).toBe(1);
    expect(guestsOf(id)).toEqual([expect.objectContaining({ checkedOutAt: expect.any(String) })]);
    expect(stack.sandbox.recepai.activeGuests(SLUG)).toEqual([]);
    expect(await storeFor(stack).getTargetState(key, 'recepai')).toMatchObject({ status: 'absent', dueAt: null });
    // Nothing is due any more: a later sweep enqueues nothing.
    expect(await sweepAt('2026-10-28T10:00:00Z')).toBe(0);
  });

  it('never checks in a reservation cancelled before arrival', async () => {
    const id = 810002;
    const base = { id, guestName: 'Never Arrives', guestFirstName: 'Never', guestLastName: 'Arrives', arrivalDate: '2026-11-10', departureDate: '2026-11-12' };
    const before = checkins();
    await sendHostaway(stack, hostawayDelivery('reservation.created', base));
    await stack.drain();
    const key = { connectionId: 'hostaway-demo', reservationId: String(id) };
    expect(await storeFor(stack).getTargetState(key, 'recepai')).toMatchObject({ dueAt: Date.parse('2026-11-10T14:00:00Z') });
    clock.set('2026-11-01T09:00:00Z');
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'cancelled' }));
    await stack.drain();
    expect(await storeFor(stack).getTargetState(key, 'recepai')).toMatchObject({ status: 'absent', dueAt: null });

    expect(await sweepAt('2026-11-10T14:00:00Z')).toBe(0);
    expect(await sweepAt('2026-11-11T12:00:00Z')).toBe(0);
    expect(guestsOf(id)).toEqual([]);
    expect(checkins()).toBe(before);
  });

  it('checks a guest out at once when the stay is cancelled while in house', async () => {
    const id = 810003;
    clock.set('2026-11-20T12:00:00Z');
    const base = { id, guestName: 'Leaves Early', guestFirstName: 'Leaves', guestLastName: 'Early', arrivalDate: '2026-11-20', departureDate: '2026-11-24', checkInTime: 15 };
    await sendHostaway(stack, hostawayDelivery('reservation.created', base));
    await stack.drain();
    expect(await sweepAt('2026-11-20T14:00:00Z')).toBe(1);
    expect(guestsOf(id)).toEqual([expect.objectContaining({ checkedOutAt: null })]);
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'cancelled' }));
    await stack.drain();
    expect(guestsOf(id)).toEqual([expect.objectContaining({ checkedOutAt: expect.any(String) })]);
  });

  it('drops the due time of a target the property no longer routes to, so the sweep stops bringing it back', async () => {
    const id = 810004;
    // A reservation whose property is not (or no longer) in the config, with RecepAI work left due.
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id, listingMapId: 999999, guestName: 'Moved Away' }));
    await stack.drain();
    const key = { connectionId: 'hostaway-demo', reservationId: String(id) };
    await storeFor(stack).putTargetState(key, {
      target: 'recepai', status: 'synced', targetIds: {}, appliedFingerprint: 'x', intent: null, lastError: null, warnings: [],
      dueAt: clock.now() - 1_000, ttl: 2_000_000_000, updatedAt: clock.now(), version: 1,
    });
    expect(await sweepAt('2026-11-21T00:00:00Z')).toBe(1);
    expect(await storeFor(stack).getTargetState(key, 'recepai')).toMatchObject({ dueAt: null });
    expect(await sweepAt('2026-11-21T00:10:00Z')).toBe(0);
  });
});
