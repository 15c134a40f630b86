import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { TestClock } from '../support/clock.ts';
import { exampleConfigWith } from '../support/config.ts';
import { hostawayDelivery, SEASIDE_KASIFY_PROPERTY, SEASIDE_SLUG } from '../support/hostaway.ts';
import { queueDepth, sendHostaway, resetTargetSandboxes, startTestStack, storeFor } from '../support/stack.ts';

/**
 * Each documented error case of RecepAI, Kasify and HostelMate, driven in its sandbox
 * through the real path, and how guest-sync handles it.
 */
const clock = new TestClock('2026-07-11T10:00:00Z'); // in house for the fixture's 10–14 July stay
let stack: LocalStack;
beforeAll(async () => {
  const configPath = exampleConfigWith((config) => {
    const routes = config.connections['hostaway-demo'].properties['219407'].targets;
    // Unit 8809 maps to rooms the vendors do not have.
    routes.recepai.rooms['8809'] = '999';
    routes.hostelmate.rooms = { '8809': '00000000-0000-4000-8000-000000000000' };
  });
  stack = await startTestStack({ configPath, now: clock.now, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => resetTargetSandboxes(stack));

const SLUG = SEASIDE_SLUG;
const KASIFY_PROPERTY = SEASIDE_KASIFY_PROPERTY;
const key = (id: number) => ({ connectionId: 'hostaway-demo', reservationId: String(id) });
const reservation = (id: number, extra: Record<string, unknown> = {}) => ({ id, guestName: `Err ${id}`, guestFirstName: 'Err', guestLastName: String(id), guestEmail: `err.${id}@example.com`, ...extra });
const route = <T extends { route: string }>(log: T[], name: string): T[] => log.filter((e) => e.route === name);
async function send(id: number, extra: Record<string, unknown> = {}, event = 'reservation.created') {
  expect((await sendHostaway(stack, hostawayDelivery(event, reservation(id, extra)))).status).toBe(202);
  await stack.drain();
}

describe('RecepAI errors', () => {
  it('DUPLICATE_GUEST on check-in: the guest is already in house, so it is updated instead', async () => {
    const id = 840001;
    stack.sandbox.recepai.seedGuest(SLUG, { pmsGuestId: `hostaway-demo:${id}`, lastName: 'Old', roomNumber: '102', checkInDate: '2026-07-10', checkOutDate: '2026-07-12' });
    await send(id);
    expect(stack.sandbox.recepai.activeGuests(SLUG)).toEqual([expect.objectContaining({ pmsGuestId: `hostaway-demo:${id}`, lastName: String(id), roomNumber: '301', checkOutDate: '2026-07-14' })]);
    const log = stack.sandbox.recepai.requestLog();
    expect(route(log, 'POST /:slug/guests/checkin').map((e) => e.status)).toEqual([409]);
    expect(route(log, 'GET /:slug/guests')).toHaveLength(1);
    expect(route(log, 'POST /:slug/guests/update').map((e) => e.status)).toEqual([200]);
    expect(await storeFor(stack).getTargetState(key(id), 'recepai')).toMatchObject({ status: 'synced', lastError: null });
  });

  it('GUEST_NOT_FOUND on update: checked out at the front desk while the stay is current, so it is checked in again', async () => {
    const id = 840002;
    await send(id);
    stack.sandbox.recepai.checkOutAtFrontDesk(SLUG, `hostaway-demo:${id}`);
    await send(id, { status: 'modified', departureDate: '2026-07-15' }, 'reservation.updated');
    const log = stack.sandbox.recepai.requestLog();
    expect(route(log, 'POST /:slug/guests/update').map((e) => e.status)).toEqual([404]);
    expect(route(log, 'POST /:slug/guests/checkin').map((e) => e.status)).toEqual([200, 200]);
    expect(stack.sandbox.recepai.activeGuests(SLUG)).toEqual([expect.objectContaining({ pmsGuestId: `hostaway-demo:${id}`, checkOutDate: '2026-07-15' })]);
  });

  it('ROOM_OCCUPIED: a permanent conflict recorded with the occupying guest, not retried blindly', async () => {
    const id = 840003;
    stack.sandbox.recepai.seedGuest(SLUG, { pmsGuestId: 'front-desk-77', lastName: 'Walkin', roomNumber: '301', checkInDate: '2026-07-10', checkOutDate: '2026-07-13' });
    await send(id);
    const state = await storeFor(stack).getTargetState(key(id), 'recepai');
    expect(state).toMatchObject({ status: 'failed', lastError: { code: 'ROOM_OCCUPIED', permanent: true } });
    expect(state!.lastError!.message).toContain('front-desk-77');
    // The other targets are not held back.
    expect(await storeFor(stack).getTargetState(key(id), 'kasify')).toMatchObject({ status: 'synced' });
    // A redelivery of the same content does not try again; a change does.
    await send(id, {}, 'reservation.updated');
    expect(route(stack.sandbox.recepai.requestLog(), 'POST /:slug/guests/checkin')).toHaveLength(1);
    await send(id, { reservationUnit: [{ listingUnitId: 8802 }] }, 'reservation.updated');
    expect(stack.sandbox.recepai.activeGuests(SLUG).find((g) => g.pmsGuestId === `hostaway-demo:${id}`)).toMatchObject({ roomNumber: '305' });
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(0);
  });

  it('KEY_REVOKED and UNAUTHORIZED: permanent, one call, nothing retried', async () => {
    const id = 840004;
    stack.sandbox.recepai.revokeKeys(SLUG);
    await send(id);
    expect(await storeFor(stack).getTargetState(key(id), 'recepai')).toMatchObject({ status: 'failed', lastError: { code: 'KEY_REVOKED', permanent: true } });
    expect(stack.sandbox.recepai.requestLog()).toHaveLength(1);
    expect(await storeFor(stack).getTargetState(key(id), 'hostelmate')).toMatchObject({ status: 'synced' });
  });

  it('UNAUTHORIZED (a key RecepAI does not know, e.g. after the pair was regenerated): permanent, nothing retried', async () => {
    const id = 840008;
    stack.sandbox.recepai.regenerateKeys(SLUG);
    await send(id);
    expect(await storeFor(stack).getTargetState(key(id), 'recepai')).toMatchObject({ status: 'failed', lastError: { code: 'UNAUTHORIZED', permanent: true } });
    expect(stack.sandbox.recepai.requestLog().map((e) => e.status)).toEqual([401]);
  });

  it('429: waits out Retry-After, then succeeds', async () => {
    const id = 840005;
    stack.sandbox.recepai.failNext({ status: 429, retryAfter: 1, pathIncludes: '/guests/checkin' });
    await send(id);
    const calls = route(stack.sandbox.recepai.requestLog(), 'POST /:slug/guests/checkin');
    expect(calls.map((e) => e.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(await storeFor(stack).getTargetState(key(id), 'recepai')).toMatchObject({ status: 'synced' });
  });

  it('validation codes (ROOM_NOT_FOUND): permanent, with the field', async () => {
    const id = 840006;
    await send(id, { reservationUnit: [{ listingUnitId: 8809 }] });
    const state = await storeFor(stack).getTargetState(key(id), 'recepai');
    expect(state).toMatchObject({ status: 'failed', lastError: { code: 'ROOM_NOT_FOUND', permanent: true } });
    expect(state!.lastError!.message).toContain('field roomNumber');
  });

  it('leaves out a value RecepAI would reject and records it, instead of failing the check-in', async () => {
    const id = 840007;
    await send(id, { guestLocale: 'klingon', guestCountry: 'XX', adults: 25, numberOfGuests: 26 });
    expect(stack.sandbox.recepai.activeGuests(SLUG)).toEqual([expect.objectContaining({ pmsGuestId: `hostaway-demo:${id}`, language: 'en', nationality: null, adults: 1 })]);
    const state = await storeFor(stack).getTargetState(key(id), 'recepai');
    expect(state).toMatchObject({ status: 'synced' });
    expect(state!.warnings).toEqual(expect.arrayContaining(['dropped:adults:out_of_range_1_20', 'dropped:nationality:not_iso_3166_alpha2']));
  });
});

describe('Kasify errors', () => {
  it('a revoked token: permanent, nothing retried', async () => {
    const id = 841001;
    stack.sandbox.kasify.revokeToken('kas_pat_demo_0000000000000000000000000000');
    await send(id);
    expect(await storeFor(stack).getTargetState(key(id), 'kasify')).toMatchObject({ status: 'failed', lastError: { code: 'unauthorized', permanent: true } });
    expect(stack.sandbox.kasify.requestLog()).toHaveLength(1);
  });

  it('429: waits out Retry-After, then succeeds', async () => {
    const id = 841002;
    stack.sandbox.kasify.failNext({ status: 429, retryAfter: 1, method: 'POST' });
    await send(id);
    const calls = route(stack.sandbox.kasify.requestLog(), 'POST /properties/:id/bookings');
    expect(calls.map((e) => e.status)).toEqual([429, 201]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('a booking deleted in Kasify is created again on the next change', async () => {
    const id = 841003;
    await send(id);
    const [booking] = stack.sandbox.kasify.allBookings(KASIFY_PROPERTY);
    stack.sandbox.kasify.deleteBooking(booking!.id);
    await send(id, { status: 'modified', departureDate: '2026-07-15' }, 'reservation.updated');
    expect(stack.sandbox.kasify.allBookings(KASIFY_PROPERTY)).toEqual([expect.objectContaining({ to: '2026-07-15', channel_id: `hostaway-demo:${id}` })]);
  });

  it('a validation refusal (422): permanent, nothing created', async () => {
    const id = 841004;
    stack.sandbox.kasify.failNext({ status: 422, method: 'POST' });
    await send(id);
    expect(await storeFor(stack).getTargetState(key(id), 'kasify')).toMatchObject({ status: 'failed', lastError: { permanent: true } });
    expect(stack.sandbox.kasify.allBookings(KASIFY_PROPERTY)).toEqual([]);
  });
});

describe('HostelMate errors', () => {
  it('email_conflict on create with the same person: that guest is adopted and the booking made for them', async () => {
    const id = 842001;
    const existing = stack.sandbox.hostelmate.seedGuest({ first_name: 'err', last_name: ` ${id} `, email: `err.${id}@example.com` });
    await send(id);
    const log = stack.sandbox.hostelmate.requestLog();
    expect(route(log, 'POST /bookings').map((e) => e.status)).toEqual([409, 201]);
    expect(stack.sandbox.hostelmate.bookings()).toEqual([expect.objectContaining({ guest: expect.objectContaining({ guestId: existing.guestId }) })]);
    expect(stack.sandbox.hostelmate.guests()).toHaveLength(1);
    const state = await storeFor(stack).getTargetState(key(id), 'hostelmate');
    expect(state).toMatchObject({ status: 'synced', targetIds: { guestId: existing.guestId } });
    expect(state!.warnings).toContain('email_conflict:adopted_existing_guest');
  });

  it('email_conflict on create with another person (a shared family email): their record is untouched, a permanent code', async () => {
    const id = 842005;
    const parent = stack.sandbox.hostelmate.seedGuest({ first_name: 'Parent', last_name: 'Holder', email: `err.${id}@example.com`, phone: '+46700000001' });
    await send(id);
    expect(route(stack.sandbox.hostelmate.requestLog(), 'POST /bookings').map((e) => e.status)).toEqual([409]);
    expect(route(stack.sandbox.hostelmate.requestLog(), 'PATCH /guests/:id')).toEqual([]);
    expect(stack.sandbox.hostelmate.guests()).toEqual([expect.objectContaining({ guestId: parent.guestId, first_name: 'Parent', last_name: 'Holder', phone: '+46700000001' })]);
    expect(stack.sandbox.hostelmate.bookings()).toEqual([]);
    expect(await storeFor(stack).getTargetState(key(id), 'hostelmate')).toMatchObject({ status: 'failed', lastError: { code: 'email_conflict_other_guest', permanent: true } });
    expect(await storeFor(stack).getTargetState(key(id), 'kasify')).toMatchObject({ status: 'synced' });
  });

  it('email_conflict on a guest change to another person\'s email: that person is left untouched', async () => {
    const id = 842002;
    await send(id);
    const other = stack.sandbox.hostelmate.seedGuest({ first_name: 'Other', last_name: 'Person', email: 'shared@example.com' });
    await send(id, { guestEmail: 'shared@example.com', phone: '+46709999999' }, 'reservation.updated');
    expect(route(stack.sandbox.hostelmate.requestLog(), 'PATCH /guests/:id').map((e) => e.status)).toEqual([409]);
    expect(stack.sandbox.hostelmate.guests().find((g) => g.guestId === other.guestId)).toMatchObject({ first_name: 'Other', last_name: 'Person', phone: null, email: 'shared@example.com' });
    expect(await storeFor(stack).getTargetState(key(id), 'hostelmate')).toMatchObject({ status: 'failed', lastError: { code: 'email_conflict_other_guest' } });
  });

  it('422 (an unknown room): permanent, with the field', async () => {
    const id = 842003;
    await send(id, { reservationUnit: [{ listingUnitId: 8809 }] });
    const state = await storeFor(stack).getTargetState(key(id), 'hostelmate');
    expect(state).toMatchObject({ status: 'failed', lastError: { code: 'room_not_found', permanent: true } });
    expect(state!.lastError!.message).toContain('field room');
  });

  it('a reservation without an email cannot create a HostelMate guest: permanent missing_field, others unaffected', async () => {
    const id = 842004;
    await send(id, { guestEmail: null });
    expect(await storeFor(stack).getTargetState(key(id), 'hostelmate')).toMatchObject({ status: 'failed', lastError: { code: 'missing_field' } });
    expect(stack.sandbox.hostelmate.requestLog()).toHaveLength(0);
    expect(await storeFor(stack).getTargetState(key(id), 'kasify')).toMatchObject({ status: 'synced' });
  });
});
