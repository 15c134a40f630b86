import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { example, GUESTY_HOME, GUESTY_LISTING, guestyReservation, sendGuesty } from '../support/pms.ts';
import { startTestStack, storeFor } from '../support/stack.ts';

/** Guesty → ingest → FIFO → sync (reads the Open API sandbox) → Minut sandbox. */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.sandbox.minut.reset();
  stack.sandbox.guesty.reset();
});

const guests = () => stack.sandbox.minut.guests(GUESTY_HOME);
const named = (name: string) => guests().filter((g) => g.name === name);
const routes = () => stack.sandbox.guesty.requestLog().map((e) => `${e.route} ${e.status}`);

/** Puts a reservation and its guest in the Open API sandbox. */
function seed(id: string, fields: Record<string, unknown>, guest: Record<string, unknown> | null) {
  const guestId = `g-${id}`;
  stack.sandbox.guesty.putReservation(guestyReservation({ _id: id, guestId, ...fields }));
  if (guest) stack.sandbox.guesty.putGuest({ _id: guestId, ...guest });
}
const leanEvent = (event: string, id: string) => ({ event, publishedAt: new Date().toISOString(), data: { reservationId: id, listingId: GUESTY_LISTING } });

describe('Guesty legacy events (full reservation, guest fetched)', () => {
  it('the reservation.new fixture becomes a Minut guest, its guest read from the Open API', async () => {
    const reply = await sendGuesty(stack, example('guesty-reservation.new.json'));
    expect(reply.status).toBe(202);
    expect(reply.body.reservations).toEqual([{ reservationId: '6650c1a2f3e4d50012ab34cd', propertyId: GUESTY_LISTING, status: 'fetch_pending' }]);
    await stack.drain();
    expect(guests()).toEqual([
      expect.objectContaining({
        name: 'Maria Lindqvist',
        email: 'maria.lindqvist@example.com',
        phone_number: '+46701234567',
        // checkIn 13:00Z / checkOut 09:00Z: 15:00 and 11:00 in Berlin, on the Localized dates.
        checkin_time: '2026-07-10T13:00:00.000Z',
        checkout_time: '2026-07-14T09:00:00.000Z',
      }),
    ]);
    // Only the guest was read: the legacy payload carried the reservation.
    expect(routes()).toEqual(['POST /oauth2/token 200', 'GET /v1/guests/:id 200']);
  });

  it('accepts the white-label webhook-* headers too', async () => {
    const reply = await sendGuesty(stack, { event: 'reservation.updated', reservation: guestyReservation({ _id: 'legacy-wh-1' }) }, { prefix: 'webhook' });
    expect(reply.status).toBe(202);
    await stack.drain();
    expect(named('Maria Lindqvist')).toHaveLength(1);
  });

  it('a legacy update to canceled removes the guest without reading the guest again', async () => {
    const base = { _id: 'legacy-cx-1', checkInDateLocalized: '2026-08-01', checkOutDateLocalized: '2026-08-03', checkIn: '2026-08-01T13:00:00.000Z', checkOut: '2026-08-03T09:00:00.000Z' };
    await sendGuesty(stack, { event: 'reservation.new', reservation: guestyReservation(base) });
    await stack.drain();
    expect(guests()).toHaveLength(1);
    await sendGuesty(stack, { event: 'reservation.updated', reservation: guestyReservation({ ...base, status: 'canceled' }) });
    await stack.drain();
    expect(guests()).toHaveLength(0);
    expect(routes().filter((r) => r.startsWith('GET /v1/guests'))).toHaveLength(1);
  });
});

describe('Guesty v2 lean events (reservation and guest fetched)', () => {
  it('created.v2 → guest with a non-ASCII name; updated.v2 with new dates → moved; declined → removed', async () => {
    seed('v2-0001', { checkInDateLocalized: '2026-09-04', checkOutDateLocalized: '2026-09-07', checkIn: '2026-09-04T14:00:00.000Z', checkOut: '2026-09-07T08:30:00.000Z' }, {
      firstName: 'Zoë',
      lastName: 'Ångström-Øyen',
      fullName: 'Zoë Ångström-Øyen',
      email: 'zoe@example.com',
      phones: ['+49 30 901820'],
    });
    const created = await sendGuesty(stack, leanEvent('reservation.created.v2', 'v2-0001'));
    expect(created.status).toBe(202);
    await stack.drain();
    expect(named('Zoë Ångström-Øyen')).toEqual([
      expect.objectContaining({ email: 'zoe@example.com', phone_number: '+4930901820', checkin_time: '2026-09-04T14:00:00.000Z', checkout_time: '2026-09-07T08:30:00.000Z' }),
    ]);

    seed('v2-0001', { checkInDateLocalized: '2026-09-05', checkOutDateLocalized: '2026-09-07', checkIn: '2026-09-05T14:00:00.000Z', checkOut: '2026-09-07T08:30:00.000Z' }, null);
    await sendGuesty(stack, leanEvent('reservation.updated.v2', 'v2-0001'));
    await stack.drain();
    expect(named('Zoë Ångström-Øyen')).toEqual([expect.objectContaining({ checkin_time: '2026-09-05T14:00:00.000Z' })]);

    seed('v2-0001', { status: 'declined', checkInDateLocalized: '2026-09-05', checkOutDateLocalized: '2026-09-07', checkIn: '2026-09-05T14:00:00.000Z', checkOut: '2026-09-07T08:30:00.000Z' }, null);
    await sendGuesty(stack, leanEvent('reservation.updated.v2', 'v2-0001'));
    await stack.drain();
    expect(guests()).toHaveLength(0);
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'guesty-demo', reservationId: 'v2-0001' });
    expect(snapshot?.reservation).toMatchObject({ status: 'cancelled', sourceStatus: 'declined' });
    // One token for the whole run: it is cached in DynamoDB.
    expect(stack.sandbox.guesty.counters().tokenGrants).toBeLessThanOrEqual(1);
  });

  it('finds the reservation id in every envelope shape integrators report', async () => {
    const shapes = [
      (id: string) => ({ event: 'reservation.created.v2', reservationId: id }),
      (id: string) => ({ eventType: 'reservation.created.v2', data: { reservation: { _id: id, listingId: GUESTY_LISTING } } }),
      (id: string) => ({ event: 'reservation.created.v2', meta: { eventId: 'e1' }, data: { reservationId: id, status: 'confirmed' } }),
      (id: string) => ({ event: 'reservation.created.v2', reservation: { id } }),
    ];
    for (const [index, shape] of shapes.entries()) {
      const id = `shape-${index}`;
      seed(id, { checkInDateLocalized: `2026-10-1${index}`, checkOutDateLocalized: `2026-10-2${index}`, checkIn: `2026-10-1${index}T13:00:00.000Z`, checkOut: `2026-10-2${index}T09:00:00.000Z` }, { fullName: `Shape ${index}`, email: `s${index}@example.com` });
      const reply = await sendGuesty(stack, shape(id));
      expect(reply.status, `shape ${index}`).toBe(202);
    }
    await stack.drain();
    for (let index = 0; index < shapes.length; index++) expect(named(`Shape ${index}`), `shape ${index}`).toHaveLength(1);
  });

  it('creates no guest for an inquiry, a hold (reserved) or an expired reservation, and never reads their guests', async () => {
    for (const status of ['inquiry', 'reserved', 'expired']) {
      seed(`nostay-${status}`, { status }, { fullName: `No Stay ${status}`, email: 'x@example.com' });
      expect((await sendGuesty(stack, leanEvent('reservation.created.v2', `nostay-${status}`))).status).toBe(202);
    }
    await stack.drain();
    expect(guests()).toHaveLength(0);
    expect(routes().filter((r) => r.startsWith('GET /v1/guests'))).toEqual([]);
    const stored = await storeFor(stack).getSnapshot({ connectionId: 'guesty-demo', reservationId: 'nostay-reserved' });
    expect(stored?.reservation.status).toBe('tentative');
  });

  it('a closed reservation removes the guest created before', async () => {
    seed('closing-1', {}, { fullName: 'Closing Guest', email: 'closing@example.com' });
    await sendGuesty(stack, leanEvent('reservation.created.v2', 'closing-1'));
    await stack.drain();
    expect(named('Closing Guest')).toHaveLength(1);
    seed('closing-1', { status: 'closed' }, null);
    await sendGuesty(stack, leanEvent('reservation.updated.v2', 'closing-1'));
    await stack.drain();
    expect(named('Closing Guest')).toHaveLength(0);
  });

  it('a guest without email or phone is still created, and Minut flags the missing contact', async () => {
    seed('nocontact-1', { checkInDateLocalized: '2026-11-02', checkOutDateLocalized: '2026-11-04', checkIn: '2026-11-02T14:00:00.000Z', checkOut: '2026-11-04T10:00:00.000Z' }, { firstName: 'Only', lastName: 'Name', phone: 'not a phone' });
    await sendGuesty(stack, leanEvent('reservation.created.v2', 'nocontact-1'));
    await stack.drain();
    expect(named('Only Name')).toEqual([expect.objectContaining({ email: null, phone_number: null, validation_errors: ['missing_phone_number_and_email'] })]);
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'guesty-demo', reservationId: 'nocontact-1' });
    expect(snapshot?.reservation.dropped).toEqual([{ field: 'guest.phone', reason: 'invalid_phone' }]);
  });
});
