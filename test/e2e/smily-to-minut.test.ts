import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { example, sendSmily, SMILY_HOME, smilyBooking, smilyClient, smilyEnvelope } from '../support/pms.ts';
import { startTestStack, storeFor } from '../support/stack.ts';

/** Smily → ingest → FIFO → sync (reads the Smily API sandbox) → Minut sandbox. */
let stack: LocalStack;
beforeAll(async () => {
  // Pages of two bookings, so a client's booking list is read across pages.
  stack = await startTestStack({ smily: { defaultPerPage: 2 } });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.sandbox.minut.reset();
  stack.sandbox.smily.reset();
});

const guests = () => stack.sandbox.minut.guests(SMILY_HOME);
const named = (name: string) => guests().filter((g) => g.name === name);
const routes = () => stack.sandbox.smily.requestLog().map((e) => `${e.route} ${e.status}`);

/** A booking in the API sandbox and the webhook Smily would send for it. */
function booked(event: string, id: number, fields: Record<string, unknown>, clientId: number | null = null) {
  const booking = smilyBooking({ id, ...fields }, { client: clientId });
  stack.sandbox.smily.putBooking(booking);
  return smilyEnvelope(event, booking);
}

describe('Smily bookings', () => {
  it('the booking_created fixture becomes a Minut guest; the client is read from the API; the UTC instants are kept', async () => {
    const reply = await sendSmily(stack, example('smily-booking_created.json'));
    expect(reply.status).toBe(202);
    expect(reply.body.reservations).toEqual([{ reservationId: '81234567', propertyId: '7731', status: 'fetch_pending' }]);
    await stack.drain();
    expect(guests()).toEqual([
      expect.objectContaining({
        name: 'Maria Lindqvist',
        email: 'maria.lindqvist@example.com',
        phone_number: '+46701234567',
        checkin_time: '2026-07-10T14:00:00.000Z',
        checkout_time: '2026-07-14T10:00:00.000Z',
      }),
    ]);
    expect(routes()).toEqual(['POST /oauth/token 200', 'GET /api/v3/bookings/:id 200', 'GET /api/v3/clients/:id 200']);
    // Local dates come from the rental's time zone (Stockholm, UTC+2 in July).
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'smily-demo', reservationId: '81234567' });
    expect(snapshot?.reservation.stay).toEqual({ checkInDate: '2026-07-10', checkOutDate: '2026-07-14', checkInTime: '16:00', checkOutTime: '12:00', timeZone: 'Europe/Stockholm' });
  });

  it('a stay that crosses midnight UTC gets the local date, and a Canceled update removes the guest', async () => {
    stack.sandbox.smily.putClient(smilyClient(5001, { fullname: 'Ségolène Åberg', firstname: 'Ségolène', lastname: 'Åberg', emails: [{ label: 'default', email: 'sego@example.com' }] }));
    // 22:30 UTC on 31 Aug is 00:30 on 1 Sep in Stockholm.
    const fields = { start_at: '2026-08-31T22:30:00Z', end_at: '2026-09-03T08:00:00Z' };
    await sendSmily(stack, booked('booking_created', 90001, fields, 5001));
    await stack.drain();
    expect(named('Ségolène Åberg')).toEqual([expect.objectContaining({ checkin_time: '2026-08-31T22:30:00.000Z', checkout_time: '2026-09-03T08:00:00.000Z' })]);
    expect((await storeFor(stack).getSnapshot({ connectionId: 'smily-demo', reservationId: '90001' }))?.reservation.stay.checkInDate).toBe('2026-09-01');

    await sendSmily(stack, booked('booking_updated', 90001, { ...fields, status: 'Canceled', canceled_at: '2026-06-01T10:00:00Z' }, 5001));
    await stack.drain();
    expect(named('Ségolène Åberg')).toHaveLength(0);
  });

  it('booking_destroyed removes the guest even though the API no longer has the booking', async () => {
    stack.sandbox.smily.putClient(smilyClient(5002, { fullname: 'Gone Soon', emails: [{ label: 'default', email: 'gone@example.com' }] }));
    const created = booked('booking_created', 90002, { start_at: '2026-09-10T13:00:00Z', end_at: '2026-09-12T09:00:00Z' }, 5002);
    await sendSmily(stack, created);
    await stack.drain();
    expect(named('Gone Soon')).toHaveLength(1);
    stack.sandbox.smily.deleteBooking(90002);
    await sendSmily(stack, { account_id: 1059638630, event: 'booking_destroyed', resource: { booking: { id: 90002 } } });
    await stack.drain();
    expect(named('Gone Soon')).toHaveLength(0);
    expect((await storeFor(stack).getSnapshot({ connectionId: 'smily-demo', reservationId: '90002' }))?.reservation).toMatchObject({ status: 'cancelled', sourceStatus: 'destroyed' });
  });

  it('an owner block (Unavailable) and a Tentative hold create no guest and read no client', async () => {
    await sendSmily(stack, booked('booking_created', 90003, { status: 'Unavailable', booked: false, unavailable: true }, null));
    await sendSmily(stack, booked('booking_created', 90004, { status: 'Tentative', tentative_expires_at: '2026-06-01T00:00:00Z' }, 995923932));
    await stack.drain();
    expect(guests()).toHaveLength(0);
    expect(routes().filter((r) => r.startsWith('GET /api/v3/clients'))).toEqual([]);
    expect((await storeFor(stack).getSnapshot({ connectionId: 'smily-demo', reservationId: '90003' }))?.reservation.status).toBe('owner_block');
    expect((await storeFor(stack).getSnapshot({ connectionId: 'smily-demo', reservationId: '90004' }))?.reservation.status).toBe('tentative');
  });

  it('a client without email or phone still becomes a guest; Minut flags it', async () => {
    stack.sandbox.smily.putClient(smilyClient(5003, { fullname: 'Quiet Client', firstname: 'Quiet', lastname: 'Client' }));
    await sendSmily(stack, booked('booking_created', 90005, { start_at: '2026-10-01T13:00:00Z', end_at: '2026-10-02T09:00:00Z' }, 5003));
    await stack.drain();
    expect(named('Quiet Client')).toEqual([expect.objectContaining({ email: null, phone_number: null, validation_errors: ['missing_phone_number_and_email'] })]);
  });

  it('client_updated renames the guest of the client’s upcoming booking and leaves its past one alone', async () => {
    stack.sandbox.smily.putClient(smilyClient(5004, { fullname: 'Old Name', emails: [{ label: 'default', email: 'old@example.com' }] }));
    await sendSmily(stack, booked('booking_created', 90006, { start_at: '2030-03-01T14:00:00Z', end_at: '2030-03-05T10:00:00Z' }, 5004));
    await sendSmily(stack, booked('booking_created', 90007, { start_at: '2020-03-01T14:00:00Z', end_at: '2020-03-05T10:00:00Z' }, 5004));
    await sendSmily(stack, booked('booking_created', 90008, { start_at: '2030-04-01T14:00:00Z', end_at: '2030-04-05T10:00:00Z' }, 5004));
    await sendSmily(stack, booked('booking_created', 90009, { start_at: '2030-05-01T14:00:00Z', end_at: '2030-05-05T10:00:00Z' }, 5004));
    // Another client's upcoming booking stays as it is.
    stack.sandbox.smily.putClient(smilyClient(5005, { fullname: 'Other Client', emails: [{ label: 'default', email: 'other@example.com' }] }));
    await sendSmily(stack, booked('booking_created', 90010, { start_at: '2030-06-01T14:00:00Z', end_at: '2030-06-05T10:00:00Z' }, 5005));
    await stack.drain();
    expect(named('Old Name')).toHaveLength(4);

    const since = Date.now();
    const renamed = stack.sandbox.smily.putClient(smilyClient(5004, { fullname: 'New Name', emails: [{ label: 'default', email: 'new@example.com' }], updated_at: '2026-06-01T00:00:00Z' }));
    const reply = await sendSmily(stack, { account_id: 1059638630, event: 'client_updated', resource: { links: {}, client: renamed } });
    expect(reply.status).toBe(202);
    expect(reply.body.reservations).toEqual([{ clientId: '5004', status: 'fetch_pending' }]);
    await stack.drain();
    // In check-in order: bookings of different reservations sync at the same time.
    expect(named('New Name').map((g) => [g.email, g.checkin_time]).sort((a, b) => a[1]!.localeCompare(b[1]!))).toEqual([
      ['new@example.com', '2030-03-01T14:00:00.000Z'],
      ['new@example.com', '2030-04-01T14:00:00.000Z'],
      ['new@example.com', '2030-05-01T14:00:00.000Z'],
    ]);
    expect(named('Old Name')).toEqual([expect.objectContaining({ checkin_time: '2020-03-01T14:00:00.000Z' })]);
    expect(named('Other Client')).toHaveLength(1);
    // Three upcoming bookings, two per page: two list pages, and one client read for all of them.
    const afterUpdate = stack.sandbox.smily.requestLog().filter((e) => e.at >= since).map((e) => `${e.route} ${e.status}`);
    expect(afterUpdate.filter((r) => r === 'GET /api/v3/bookings 200')).toHaveLength(2);
    expect(afterUpdate.filter((r) => r === 'GET /api/v3/clients/:id 200')).toHaveLength(1);
  });

  it('acknowledges client_created and other events without queuing', async () => {
    const reply = await sendSmily(stack, example('smily-client_created.json'));
    expect(reply).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'not_a_reservation_event:client_created' } });
  });
});
