import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { MEWS_DEMO_ENTERPRISE } from '../../infra/local/sandboxes/mews.ts';
import { TestClock } from '../support/clock.ts';
import { HOTEL_PMSS, type HotelPms, type Stay } from '../support/hotel-pms.ts';
import { postWebhook, queueDepth, resetTargetSandboxes, startTestStack, storeFor } from '../support/stack.ts';

/**
 * apaleo, Mews and Cloudbeds through the real path: a thin webhook → ingest → queue → sync,
 * which reads the reservation (and Mews' customer and age categories) from the PMS API
 * sandbox → the four target sandboxes. Room, date and contact changes, cancel, no-show, the
 * front desk's check-in and check-out, a Mews batch, a read that fails and recovers.
 */
const clock = new TestClock('2026-07-11T10:00:00Z'); // in house for a 10–14 July stay
let stack: LocalStack;
beforeAll(async () => {
  // A failed read is retried through the queue: a short backoff keeps the test quick.
  stack = await startTestStack({ now: clock.now, sweepIntervalMs: null, maxBackoffSeconds: 1 });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => resetTargetSandboxes(stack));

const DORM = '3d6f1a2b-8c4e-4f5a-9b7c-0e1d2f3a4b5c';
const DOUBLE = '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
let nextId = 930_000;

function stay(pms: HotelPms, fields: Partial<Stay> = {}): Stay {
  const id = ++nextId;
  return { id, firstName: 'Ines', lastName: `${pms.name} ${id}`, email: `ines.${pms.name}.${id}@example.com`, phone: '+46701234567', arrival: '2026-07-10', departure: '2026-07-14', adults: 2, children: 1, unit: 0, state: 'booked', ...fields };
}

function held(pms: HotelPms, s: Stay) {
  const key = `${pms.connectionId}:${pms.reservationId(s)}`;
  const hmGuests = stack.sandbox.hostelmate.guests().filter((g) => g.email === s.email);
  return {
    minut: stack.sandbox.minut.guests(pms.minutHome).filter((g) => g.name === `Ines ${s.lastName}`),
    recepai: stack.sandbox.recepai.guests(pms.hotelSlug).filter((g) => g.pmsGuestId === key && g.checkedOutAt === null),
    kasify: stack.sandbox.kasify.allBookings(pms.kasifyProperty).filter((b) => b.channel_id === key),
    hostelmate: stack.sandbox.hostelmate.bookings().filter((b) => b.guest && hmGuests.some((g) => g.guestId === b.guest.guestId)),
  };
}

async function deliver(pms: HotelPms, s: Stay): Promise<void> {
  pms.publish(stack, s);
  const reply = await pms.send(stack, JSON.stringify(pms.webhook(s, clock.now())));
  expect(reply).toMatchObject({ status: 202, body: { reservations: [{ reservationId: pms.reservationId(s), status: 'fetch_pending' }] } });
  await stack.drain();
}

describe.each(HOTEL_PMSS)('$name to all four targets', (pms) => {
  it('creates the guest, then moves the room, changes the dates and the contact, and cancels', async () => {
    const s = stay(pms);
    await deliver(pms, s);
    let now = held(pms, s);
    const { checkin, checkout } = pms.instants(s);
    expect(now.minut).toEqual([expect.objectContaining({ checkin_time: checkin.replace('Z', '.000Z'), checkout_time: checkout.replace('Z', '.000Z'), email: s.email })]);
    expect(now.recepai).toEqual([expect.objectContaining({ roomNumber: pms.rooms[0], checkInDate: '2026-07-10', checkOutDate: '2026-07-14', adults: 2, children: 1, email: s.email })]);
    expect(now.kasify).toEqual([expect.objectContaining({ from: '2026-07-10', to: '2026-07-14', status: 'confirmed', adults_count: 2, children_count: 1 })]);
    expect(now.hostelmate).toEqual([expect.objectContaining({ status: 'confirmed', room: DORM })]);

    // The guest moves to the other room: a room move at RecepAI, a room change at HostelMate.
    clock.advance(60_000);
    const moved: Stay = { ...s, unit: 1 };
    await deliver(pms, moved);
    now = held(pms, moved);
    expect(now.recepai).toEqual([expect.objectContaining({ roomNumber: pms.rooms[1] })]);
    expect(stack.sandbox.recepai.requestLog().filter((e) => e.route === 'POST /:slug/guests/update')).toHaveLength(1);
    expect(now.hostelmate).toEqual([expect.objectContaining({ room: DOUBLE })]);

    // A later departure, a new email and phone.
    clock.advance(60_000);
    const changed: Stay = { ...moved, departure: '2026-07-16', email: `new.${s.email}`, phone: '+46707654321' };
    await deliver(pms, changed);
    now = held(pms, changed);
    expect(now.minut).toEqual([expect.objectContaining({ checkout_time: pms.instants(changed).checkout.replace('Z', '.000Z'), email: changed.email, phone_number: '+46707654321' })]);
    expect(now.recepai).toEqual([expect.objectContaining({ checkOutDate: '2026-07-16', email: changed.email, phone: '+46707654321' })]);
    expect(now.kasify).toEqual([expect.objectContaining({ to: '2026-07-16', guest_email: changed.email })]);
    expect(now.hostelmate[0]!.dates.map((d) => d.date)).toEqual(['2026-07-10', '2026-07-11', '2026-07-12', '2026-07-13', '2026-07-14', '2026-07-15']);

    clock.advance(60_000);
    await deliver(pms, { ...changed, state: 'cancelled' });
    now = held(pms, changed);
    expect(now).toMatchObject({ minut: [], recepai: [], kasify: [expect.objectContaining({ status: 'cancelled' })], hostelmate: [expect.objectContaining({ status: 'cancelled' })] });
  });

  it('a no-show removes the guest everywhere', async () => {
    const s = stay(pms);
    await deliver(pms, s);
    expect(held(pms, s).minut).toHaveLength(1);
    clock.advance(60_000);
    await deliver(pms, { ...s, state: 'no_show' });
    expect(held(pms, s)).toMatchObject({ minut: [], recepai: [], kasify: [expect.objectContaining({ status: 'cancelled' })] });
    expect((await storeFor(stack).getSnapshot({ connectionId: pms.connectionId, reservationId: pms.reservationId(s) }))?.reservation.sourceStatus).toMatch(/no_?show/i);
  });

  it('RecepAI follows the front desk: checked in before the scheduled arrival, checked out before the scheduled departure', async () => {
    // Arrives tomorrow, but the front desk checked the guest in early.
    const early = stay(pms, { arrival: '2026-07-12', departure: '2026-07-15', state: 'in_house' });
    await deliver(pms, early);
    expect(held(pms, early).recepai).toEqual([expect.objectContaining({ checkInDate: '2026-07-12' })]);

    // In house until the 14th, but checked out today: RecepAI checks the guest out now.
    const leaving = stay(pms, { unit: 1, state: 'in_house' });
    await deliver(pms, leaving);
    expect(held(pms, leaving).recepai).toHaveLength(1);
    clock.advance(60_000);
    await deliver(pms, { ...leaving, state: 'checked_out' });
    expect(held(pms, leaving).recepai).toEqual([]);
    expect(stack.sandbox.recepai.guests(pms.hotelSlug).find((g) => g.pmsGuestId === `${pms.connectionId}:${pms.reservationId(leaving)}`)).toMatchObject({ checkedOutAt: expect.any(String) });
    // The other targets keep the stay: the guest did stay.
    expect(held(pms, leaving).minut).toHaveLength(1);
  });

  it('a read that fails is retried until it succeeds; nothing is lost', async () => {
    const s = stay(pms);
    pms.publish(stack, s);
    const sandbox = stack.sandbox[pms.name];
    // More failures than the HTTP client retries within one call: the message itself comes back.
    sandbox.failNext({ status: 503, count: 4 });
    expect((await pms.send(stack, JSON.stringify(pms.webhook(s, clock.now())))).status).toBe(202);
    await stack.drain(60_000);
    expect(held(pms, s).minut).toHaveLength(1);
    expect(held(pms, s).kasify).toHaveLength(1);
    expect(await storeFor(stack).getTargetState({ connectionId: pms.connectionId, reservationId: pms.reservationId(s) }, 'minut')).toMatchObject({ status: 'synced' });
  });

  it('a wrong or missing token is answered 401 and nothing is queued', async () => {
    const body = JSON.stringify(pms.webhook(stay(pms), clock.now()));
    expect(await pms.send(stack, body, 'x'.repeat(40))).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
    expect(await postWebhook(stack, pms.connectionId, body, {})).toMatchObject({ status: 401, body: { error: { code: 'missing_token' } } });
    expect(await queueDepth(stack)).toBe(0);
  });
});

describe('Mews batches', () => {
  const mews = HOTEL_PMSS.find((p) => p.name === 'mews')!;

  it('one delivery of several reservations, with repeated ids and other events, is one message per reservation', async () => {
    // Future stays: RecepAI holds none yet, so several can share a room.
    const stays = [1, 2, 3].map(() => stay(mews, { arrival: '2026-08-10', departure: '2026-08-12' }));
    for (const s of stays) mews.publish(stack, s);
    const events = stays.flatMap((s) => (mews.webhook(s, clock.now()) as { Events: unknown[] }).Events);
    const batch = {
      EnterpriseId: MEWS_DEMO_ENTERPRISE,
      IntegrationId: 'c8bee838-7fb1-4f4e-8fac-ac87008b2f90',
      Events: [...events, events[0], { Discriminator: 'ResourceUpdated', Value: { Id: 'r1' } }, { Discriminator: 'MessageAdded', Value: { Id: 'm1' } }, events[2]],
    };
    const reply = await mews.send(stack, JSON.stringify(batch));
    expect(reply.status).toBe(202);
    expect((reply.body.reservations as { reservationId: string }[]).map((r) => r.reservationId).sort()).toEqual(stays.map((s) => mews.reservationId(s)).sort());
    await stack.drain();
    for (const s of stays) {
      expect(held(mews, s).minut).toHaveLength(1);
      expect(held(mews, s).kasify).toEqual([expect.objectContaining({ from: '2026-08-10', to: '2026-08-12' })]);
    }
    expect(stack.sandbox.minut.counters().byRoute['POST /homes/:home_id/guests']).toBe(3);
  });

  it('a CustomerUpdated resyncs that customer\'s upcoming reservations with the new contact', async () => {
    const s = stay(mews, { arrival: '2026-08-20', departure: '2026-08-22' });
    await deliver(mews, s);
    expect(held(mews, s).kasify).toEqual([expect.objectContaining({ guest_email: s.email })]);
    const customerId = `00000000-0000-4000-a000-${String(s.id).padStart(12, '0')}`;
    stack.sandbox.mews.customers.put({ Id: customerId, FirstName: 'Ines', LastName: s.lastName, Email: `moved.${s.email}`, Phone: '+46707654321', HasOtaEmail: false });
    const reply = await mews.send(stack, JSON.stringify({ EnterpriseId: MEWS_DEMO_ENTERPRISE, Events: [{ Discriminator: 'CustomerUpdated', Value: { Id: customerId } }] }));
    expect(reply).toMatchObject({ status: 202, body: { reservations: [{ clientId: customerId, status: 'fetch_pending' }] } });
    await stack.drain();
    expect(held(mews, s).kasify).toEqual([expect.objectContaining({ guest_email: `moved.${s.email}`, guest_phone: '+46707654321' })]);
  });
});
