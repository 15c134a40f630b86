import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { runCli } from '../support/cli.ts';
import { TestClock } from '../support/clock.ts';
import { hostawayDelivery, SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY, SEASIDE_SLUG } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/**
 * `guest-sync erase`: the guest goes from every target, guest-sync's own data goes, and a
 * redelivered webhook does not bring the guest back until the tombstone is lifted.
 */
const clock = new TestClock('2026-07-11T10:00:00Z'); // in house for the fixture's 10–14 July stay: RecepAI holds the guest too
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ now: clock.now, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});

const EMAIL = 'erase.me@example.com';
// Each in its own room (RecepAI has one guest per room): 301 for 794001, 305 for the control.
const guest = (id: number, email = EMAIL, unit = 8801) => ({ id, guestName: `Erase Me ${id}`, guestFirstName: 'Erase Me', guestLastName: String(id), guestEmail: email, reservationUnit: [{ listingUnitId: unit }] });
const key = (id: number) => ({ connectionId: 'hostaway-demo', reservationId: String(id) });
/** HostelMate's booking id per reservation, as sync stored it (kept here: erasure deletes the state). */
const hostelmateBookings = new Map<number, string>();
async function rememberBookings(...ids: number[]): Promise<void> {
  for (const id of ids) {
    const bookingId = (await storeFor(stack).getTargetState(key(id), 'hostelmate'))?.targetIds.bookingId;
    if (bookingId) hostelmateBookings.set(id, bookingId);
  }
}
const held = (id: number) => ({
  minut: stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === `Erase Me ${id}`).length,
  recepai: stack.sandbox.recepai.activeGuests(SEASIDE_SLUG).filter((g) => g.pmsGuestId === `hostaway-demo:${id}`).length,
  kasify: stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).filter((b) => b.channel_id === `hostaway-demo:${id}` && b.status !== 'cancelled').length,
  hostelmate: stack.sandbox.hostelmate.bookings().filter((b) => b.status !== 'cancelled' && b.id === hostelmateBookings.get(id)).length,
});

describe('guest-sync erase', () => {
  it('removes the guest everywhere, deletes what guest-sync holds, and a redelivered webhook does not bring it back', async () => {
    for (const id of [794001, 794002]) await sendHostaway(stack, hostawayDelivery('reservation.created', guest(id)));
    await sendHostaway(stack, hostawayDelivery('reservation.created', guest(794003, 'keep.me@example.com', 8802)));
    await stack.drain();
    await rememberBookings(794001, 794002, 794003);
    expect(held(794001)).toEqual({ minut: 1, recepai: 1, kasify: 1, hostelmate: 1 });

    const erased = await runCli(stack, ['erase', 'hostaway-demo', '794001']);
    expect(erased.code, erased.stdout + erased.stderr).toBe(0);
    expect(erased.stdout).toContain('hostaway-demo/794001: ERASED');
    expect(erased.stdout).toMatch(/minut\s+deleted/);
    expect(erased.stdout).toMatch(/recepai\s+checked out/);
    expect(erased.stdout).toMatch(/kasify\s+cancelled: Kasify keeps the cancelled booking/);
    expect(erased.stdout).toMatch(/hostelmate\s+cancelled/);
    expect(erased.stdout).toContain('What erasure cannot reach:');
    expect(held(794001)).toEqual({ minut: 0, recepai: 0, kasify: 0, hostelmate: 0 });
    // Nothing of it is left in guest-sync but the tombstone, which holds no guest data.
    const store = storeFor(stack);
    expect(await store.getSnapshot(key(794001))).toBeUndefined();
    expect(await store.listTargetStates(key(794001))).toEqual([]);
    expect(await store.listTrace(key(794001))).toEqual([]);
    const tombstone = await store.getTombstone(key(794001));
    expect(tombstone).toMatchObject({ status: 'erased', propertyId: '219407' });
    expect(JSON.stringify(tombstone)).not.toMatch(/Erase Me|erase\.me/);
    // The other reservations are untouched.
    expect(held(794002).minut).toBe(1);
    expect(held(794003)).toEqual({ minut: 1, recepai: 1, kasify: 1, hostelmate: 1 });

    // The PMS sends a change to the erased reservation: ignored, nothing is created again.
    const minutPosts = () => stack.sandbox.minut.requestLog().filter((e) => e.route === 'POST /homes/:home_id/guests').length;
    const postsBefore = minutPosts();
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...guest(794001), status: 'modified', departureDate: '2026-07-15' }));
    await stack.drain();
    expect(minutPosts()).toBe(postsBefore);
    expect(held(794001)).toEqual({ minut: 0, recepai: 0, kasify: 0, hostelmate: 0 });
    expect((await runCli(stack, ['status', 'hostaway-demo', '794001'])).stdout).toContain('hostaway-demo/794001: ERASED');
    // A resync of the whole connection passes over the tombstone (no snapshot to drive from).
    const resynced = await runCli(stack, ['resync', 'hostaway-demo']);
    expect(resynced.code, resynced.stderr).toBe(0);
    await stack.drain();
    expect(held(794001)).toEqual({ minut: 0, recepai: 0, kasify: 0, hostelmate: 0 });

    // By email (any case): finds the guest's other reservation, not the one with another email.
    const byEmail = await runCli(stack, ['erase', 'hostaway-demo', '--email', ' Erase.Me@Example.com ']);
    expect(byEmail.code, byEmail.stdout).toBe(0);
    expect(byEmail.stdout).toContain('Erasure of 1 reservation(s)');
    expect(byEmail.stdout).toContain('hostaway-demo/794002: ERASED');
    expect(held(794002).minut).toBe(0);
    expect(held(794003).minut).toBe(1);

    // The operator lifts the tombstone: the next delivery is processed as new.
    const lifted = await runCli(stack, ['erase', 'hostaway-demo', '794001', '--lift']);
    expect(lifted.stdout).toContain('Lifted the tombstone');
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...guest(794001), status: 'modified' }));
    await stack.drain();
    expect(held(794001).minut).toBe(1);
  });

  it('retries a target that is down, without calling again the targets already done', async () => {
    await sendHostaway(stack, hostawayDelivery('reservation.created', guest(794010, 'retry.erase@example.com')));
    await stack.drain();
    await rememberBookings(794010);
    expect(held(794010)).toMatchObject({ minut: 1, kasify: 1, hostelmate: 1 });
    // Targets are erased in order (hostelmate, kasify, minut, recepai): HostelMate is done before Kasify fails.
    const hostelmateCancels = () => stack.sandbox.hostelmate.requestLog().filter((e) => e.method === 'POST' && e.route.endsWith('/update')).length;
    const kasifyFailures = () => stack.sandbox.kasify.requestLog().filter((e) => e.status === 503).length;
    const before = { cancels: hostelmateCancels(), failures: kasifyFailures() };
    // Kasify answers 503 to every attempt of the first try (the HTTP client makes 3).
    stack.sandbox.kasify.failNext({ status: 503, count: 3, method: 'PATCH' });
    const erased = await runCli(stack, ['erase', 'hostaway-demo', '794010']);
    expect(erased.code, erased.stdout).toBe(0);
    expect(erased.stdout).toMatch(/kasify\s+cancelled/);
    expect(held(794010)).toMatchObject({ minut: 0, kasify: 0, hostelmate: 0 });
    expect(kasifyFailures() - before.failures).toBe(3);
    expect(hostelmateCancels() - before.cancels).toBe(1);
  });
});
