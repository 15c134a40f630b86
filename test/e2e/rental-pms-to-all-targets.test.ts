import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signHospitable } from '../../functions/sources/hospitable.ts';
import { signLodgify } from '../../functions/sources/lodgify.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { TestClock } from '../support/clock.ts';
import { SEASIDE_KASIFY_PROPERTY, SEASIDE_SLUG } from '../support/hostaway.ts';
import { RENTAL_PMSS, type Booking, type RentalPms } from '../support/rental-pms.ts';
import { HOSPITABLE_SECRET, LODGIFY_SECRETS, sendSmoobu } from '../support/pms.ts';
import { postWebhook, queueDepth, resetTargetSandboxes, shuffled, startTestStack, storeFor } from '../support/stack.ts';

/**
 * Lodgify, Hospitable and Smoobu through the real path (ingest → queue → sync, re-reading the
 * PMS API sandbox where the PMS needs it → the four target sandboxes): create, edit (dates,
 * contact, party), cancel, owner block, and redelivered, shuffled deliveries.
 */
const clock = new TestClock('2026-07-11T10:00:00Z'); // in house: RecepAI holds the guest too
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ now: clock.now, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => resetTargetSandboxes(stack));

const DORM = '3d6f1a2b-8c4e-4f5a-9b7c-0e1d2f3a4b5c';
let nextId = 910_000;

function booking(pms: RentalPms, fields: Partial<Booking> = {}): Booking {
  const id = ++nextId;
  return { id, firstName: 'Ana', lastName: `${pms.name} ${id}`, email: `ana.${pms.name}.${id}@example.com`, phone: '+46701234567', arrival: '2026-07-10', departure: '2026-07-14', adults: 2, children: 1, state: 'booked', ...fields };
}

/** What each target holds for the booking. */
function held(pms: RentalPms, b: Booking) {
  const key = `${pms.connectionId}:${pms.reservationId(b)}`;
  const hmGuests = stack.sandbox.hostelmate.guests().filter((g) => g.email === b.email);
  return {
    minut: stack.sandbox.minut.guests(pms.minutHome).filter((g) => g.name === `Ana ${b.lastName}`),
    recepai: stack.sandbox.recepai.guests(SEASIDE_SLUG).filter((g) => g.pmsGuestId === key && g.checkedOutAt === null),
    kasify: stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).filter((b) => b.channel_id === key),
    hostelmate: stack.sandbox.hostelmate.bookings().filter((booking) => booking.guest && hmGuests.some((g) => g.guestId === booking.guest.guestId)),
    hostelmateGuests: hmGuests,
  };
}

async function deliver(pms: RentalPms, b: Booking, event: 'created' | 'changed' | 'cancelled'): Promise<void> {
  pms.publish(stack, b);
  const reply = await pms.send(stack, JSON.stringify(pms.webhook(b, event, clock.now())));
  expect(reply.status).toBe(202);
  await stack.drain();
}

describe.each(RENTAL_PMSS)('$name to all four targets', (pms) => {
  it('creates, edits (dates, contact, party) and cancels the guest everywhere', async () => {
    const b = booking(pms);
    await deliver(pms, b, 'created');
    let now = held(pms, b);
    expect(now.minut).toEqual([expect.objectContaining({ checkin_time: '2026-07-10T13:00:00.000Z', checkout_time: '2026-07-14T09:00:00.000Z', email: b.email, phone_number: '+46701234567' })]);
    expect(now.recepai).toEqual([expect.objectContaining({ roomNumber: expect.any(String), checkInDate: '2026-07-10', checkOutDate: '2026-07-14', email: b.email, adults: 2, children: 1 })]);
    expect(now.kasify).toEqual([expect.objectContaining({ from: '2026-07-10', to: '2026-07-14', status: 'confirmed', guest_email: b.email, guest_phone: '+46701234567', adults_count: 2, children_count: 1, checkin_time: '15:00', checkout_time: '11:00' })]);
    expect(now.hostelmate).toEqual([expect.objectContaining({ status: 'confirmed', room: DORM })]);
    expect(now.hostelmate[0]!.dates.map((d) => d.date)).toEqual(['2026-07-10', '2026-07-11', '2026-07-12', '2026-07-13']);

    // A later departure, a new phone and email, one more adult.
    clock.advance(60_000);
    const edited: Booking = { ...b, departure: '2026-07-16', phone: '+46707654321', email: `new.${b.email}`, adults: 3 };
    await deliver(pms, edited, 'changed');
    now = held(pms, edited);
    expect(now.minut).toEqual([expect.objectContaining({ checkout_time: '2026-07-16T09:00:00.000Z', phone_number: '+46707654321', email: edited.email })]);
    expect(now.recepai).toEqual([expect.objectContaining({ checkOutDate: '2026-07-16', phone: '+46707654321', email: edited.email, adults: 3, children: 1 })]);
    expect(now.kasify).toEqual([expect.objectContaining({ to: '2026-07-16', guest_phone: '+46707654321', guest_email: edited.email, adults_count: 3 })]);
    expect(now.hostelmate).toHaveLength(1);
    expect(now.hostelmate[0]!.dates.map((d) => d.date)).toEqual(['2026-07-10', '2026-07-11', '2026-07-12', '2026-07-13', '2026-07-14', '2026-07-15']);
    expect(now.hostelmateGuests).toEqual([expect.objectContaining({ phone: '+46707654321' })]);

    clock.advance(60_000);
    const cancelled: Booking = { ...edited, state: 'cancelled' };
    await deliver(pms, cancelled, 'cancelled');
    now = held(pms, cancelled);
    expect(now.minut).toEqual([]);
    expect(now.recepai).toEqual([]);
    expect(now.kasify).toEqual([expect.objectContaining({ status: 'cancelled' })]);
    expect(now.hostelmate).toEqual([expect.objectContaining({ status: 'cancelled' })]);
    const key = { connectionId: pms.connectionId, reservationId: pms.reservationId(b) };
    for (const target of ['minut', 'recepai', 'kasify', 'hostelmate'] as const) {
      expect(await storeFor(stack).getTargetState(key, target)).toMatchObject({ status: 'absent', lastError: null });
    }
  });

  it.runIf(pms.hasOwnerBlocks)('an owner block reaches no target, and a booking that becomes one is removed', async () => {
    const block = booking(pms, { state: 'blocked' });
    await deliver(pms, block, 'created');
    expect(held(pms, block)).toMatchObject({ minut: [], recepai: [], kasify: [], hostelmate: [] });
    expect((await storeFor(stack).getSnapshot({ connectionId: pms.connectionId, reservationId: pms.reservationId(block) }))?.reservation.status).toBe('owner_block');

    const b = booking(pms);
    await deliver(pms, b, 'created');
    expect(held(pms, b).minut).toHaveLength(1);
    clock.advance(60_000);
    await deliver(pms, { ...b, state: 'blocked' }, 'changed');
    expect(held(pms, b)).toMatchObject({ minut: [], recepai: [], kasify: [expect.objectContaining({ status: 'cancelled' })] });
  });

  it('redelivered and shuffled deliveries leave one guest per target, in the final state', async () => {
    const b = booking(pms);
    const versions: Booking[] = [b, { ...b, departure: '2026-07-15' }, { ...b, departure: '2026-07-16', phone: '+46707654321' }];
    const bodies = versions.map((v, i) => {
      clock.advance(1_000);
      return JSON.stringify(pms.webhook(v, i === 0 ? 'created' : 'changed', clock.now()));
    });
    // The PMS holds the final state; each delivery is sent three times, in a shuffled order.
    pms.publish(stack, versions.at(-1)!);
    for (const body of shuffled([...bodies, ...bodies, ...bodies], 7)) expect((await pms.send(stack, body)).status).toBe(202);
    await stack.drain();
    const now = held(pms, b);
    expect(now.minut).toEqual([expect.objectContaining({ checkout_time: '2026-07-16T09:00:00.000Z', phone_number: '+46707654321' })]);
    expect(now.recepai).toEqual([expect.objectContaining({ checkOutDate: '2026-07-16' })]);
    expect(now.kasify).toEqual([expect.objectContaining({ to: '2026-07-16', status: 'confirmed' })]);
    expect(now.hostelmate).toHaveLength(1);
    expect(stack.sandbox.minut.counters().byRoute['POST /homes/:home_id/guests'] ?? 0).toBe(1);
  });

  it('a forged signature or token is answered 401 and nothing is queued', async () => {
    const b = booking(pms);
    const body = JSON.stringify(pms.webhook(b, 'created', clock.now()));
    const tampered = body.replace(b.email, `x${b.email}`);
    const forged = pms.name === 'smoobu' ? await sendSmoobu(stack, body, { token: 'demo-smoobu-url-token-7Qm2xW9aLr4Kp8Vy' }) : await postForged(pms, tampered, body);
    expect(forged.status).toBe(401);
    expect(await queueDepth(stack)).toBe(0);
  });
});

/** The body's signature sent with other bytes: what an attacker who saw one delivery can do. */
function postForged(pms: RentalPms, tampered: string, original: string) {
  const headers: Record<string, string> = pms.name === 'lodgify' ? { 'ms-signature': signLodgify(LODGIFY_SECRETS[0], original) } : { signature: signHospitable(HOSPITABLE_SECRET, original) };
  return postWebhook(stack, pms.connectionId, tampered, headers);
}

describe('re-read and partial events', () => {
  const [lodgifyPms, hospitablePms, smoobuPms] = RENTAL_PMSS as [RentalPms, RentalPms, RentalPms];

  it.each([lodgifyPms, smoobuPms])('$name: the API, not the webhook, decides what is applied', async (pms) => {
    const b = booking(pms);
    // The webhook says one departure, the PMS (re-read) another: the PMS wins.
    pms.publish(stack, { ...b, departure: '2026-07-15' });
    expect((await pms.send(stack, JSON.stringify(pms.webhook(b, 'created', clock.now())))).status).toBe(202);
    await stack.drain();
    expect(held(pms, b).kasify).toEqual([expect.objectContaining({ to: '2026-07-15' })]);
    expect(held(pms, b).minut).toEqual([expect.objectContaining({ checkout_time: '2026-07-15T09:00:00.000Z' })]);
  });

  it.each([lodgifyPms, smoobuPms])('$name: a booking the API no longer has is removed everywhere', async (pms) => {
    const b = booking(pms);
    await deliver(pms, b, 'created');
    expect(held(pms, b).minut).toHaveLength(1);
    clock.advance(60_000);
    // Deleted in the PMS: the sandbox answers 404 to the re-read of the next webhook.
    if (pms.name === 'lodgify') stack.sandbox.lodgify.bookings.delete(b.id);
    else stack.sandbox.smoobu.reservations.delete(b.id);
    expect((await pms.send(stack, JSON.stringify(pms.webhook(b, 'changed', clock.now())))).status).toBe(202);
    await stack.drain();
    expect(held(pms, b)).toMatchObject({ minut: [], recepai: [], kasify: [expect.objectContaining({ status: 'cancelled' })], hostelmate: [expect.objectContaining({ status: 'cancelled' })] });
  });

  it('Hospitable: a changed event with partial data is completed from the API, in order with full events', async () => {
    const b = booking(hospitablePms);
    await deliver(hospitablePms, b, 'created');
    // The PMS now has a later departure; the event carries only the id and the new check-out.
    clock.advance(60_000);
    const moved: Booking = { ...b, departure: '2026-07-16' };
    hospitablePms.publish(stack, moved);
    const full = hospitablePms.webhook(moved, 'changed', clock.now()) as { data: Record<string, unknown> };
    const partial = { ...full, data: { id: full.data.id, check_out: full.data.check_out } };
    const reply = await hospitablePms.send(stack, JSON.stringify(partial));
    expect(reply).toMatchObject({ status: 202, body: { reservations: [{ status: 'fetch_pending' }] } });
    await stack.drain();
    expect(held(hospitablePms, b).kasify).toEqual([expect.objectContaining({ to: '2026-07-16' })]);
    expect(stack.sandbox.hospitable.requestLog().filter((e) => e.route === 'GET /v2/reservations/:id')).toHaveLength(1);

    // An older full event arriving late changes nothing.
    const stale = hospitablePms.webhook(b, 'changed', clock.now() - 120_000);
    expect((await hospitablePms.send(stack, JSON.stringify(stale))).status).toBe(202);
    await stack.drain();
    expect(held(hospitablePms, b).kasify).toEqual([expect.objectContaining({ to: '2026-07-16' })]);
  });
});
