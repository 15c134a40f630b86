import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../support/hostaway.ts';
import { sendHostaway, shuffled, startTestStack, storeFor } from '../support/stack.ts';

/** The real path: HTTP front → ingest handler → fauxqs FIFO → sync handler → Minut sandbox. */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.sandbox.minut.reset();
});

const guestsNamed = (name: string) => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === name);

describe('a Hostaway reservation becomes a Minut guest', () => {
  it('is created, then updated with the new departure, then removed when cancelled', async () => {
    const data = { id: 700001, guestName: 'Maria Lindqvist', guestFirstName: 'Maria', guestLastName: 'Lindqvist' };

    const created = await sendHostaway(stack, hostawayDelivery('reservation.created', data));
    expect(created.status).toBe(202);
    expect(created.body.status).toBe('accepted');
    await stack.drain();
    const [guest] = stack.sandbox.minut.guests(SEASIDE_HOME);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME)).toHaveLength(1);
    expect(guest).toMatchObject({
      name: 'Maria Lindqvist',
      email: 'maria.lindqvist@example.com',
      phone_number: '+46701234567',
      // Stockholm is UTC+2 in July: 15:00 and 11:00 local.
      checkin_time: '2026-07-10T13:00:00.000Z',
      checkout_time: '2026-07-14T09:00:00.000Z',
      validation_errors: [],
    });

    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...data, status: 'modified', departureDate: '2026-07-16' }));
    await stack.drain();
    expect(stack.sandbox.minut.guests(SEASIDE_HOME)).toHaveLength(1);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME)[0]).toMatchObject({ guest_id: guest!.guest_id, checkout_time: '2026-07-16T09:00:00.000Z' });

    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...data, status: 'cancelled', departureDate: '2026-07-16' }));
    await stack.drain();
    expect(stack.sandbox.minut.guests(SEASIDE_HOME)).toHaveLength(0);
    const state = await storeFor(stack).getTargetState({ connectionId: 'hostaway-demo', reservationId: '700001' }, 'minut');
    expect(state).toMatchObject({ status: 'absent', lastError: null });
  });

  it('places a stay across the autumn DST change right on both ends, and keeps it until checkout plus retention', async () => {
    // Stockholm leaves summer time on 31 October 2027: arrival is UTC+2, departure UTC+1.
    // (A stay still to come: the ttl of a stay already over counts from now, see test/unit/retention.test.ts.)
    await sendHostaway(
      stack,
      hostawayDelivery('reservation.created', { id: 700002, guestName: 'Ola Dst', guestFirstName: 'Ola', guestLastName: 'Dst', arrivalDate: '2027-10-29', departureDate: '2027-11-02', checkInTime: 15, checkOutTime: 11 }),
    );
    await stack.drain();
    expect(guestsNamed('Ola Dst')[0]).toMatchObject({ checkin_time: '2027-10-29T13:00:00.000Z', checkout_time: '2027-11-02T10:00:00.000Z' });

    const key = { connectionId: 'hostaway-demo', reservationId: '700002' };
    const checkout = Date.parse('2027-11-02T10:00:00Z') / 1000;
    const retention = stack.config.retentionDays * 86_400;
    expect((await storeFor(stack).getSnapshot(key))?.ttl).toBe(checkout + retention);
    expect((await storeFor(stack).getTargetState(key, 'minut'))?.ttl).toBe(checkout + retention);
  });

  it('uses the property default times when Hostaway sends none, and spring-forward shifts the offset', async () => {
    // Stockholm enters summer time on 28 March 2027; property defaults are 15:00 / 11:00.
    await sendHostaway(
      stack,
      hostawayDelivery('reservation.created', { id: 700003, guestName: 'Vår Gäst', guestFirstName: 'Vår', guestLastName: 'Gäst', arrivalDate: '2027-03-26', departureDate: '2027-03-29', checkInTime: null, checkOutTime: null }),
    );
    await stack.drain();
    expect(guestsNamed('Vår Gäst')[0]).toMatchObject({ checkin_time: '2027-03-26T14:00:00.000Z', checkout_time: '2027-03-29T09:00:00.000Z' });
  });

  for (const seed of [1, 7, 42]) {
    it(`ends at the latest state with never more than one guest, when every delivery comes three times in shuffled order (seed ${seed})`, async () => {
      const id = 710000 + seed;
      const name = `Shuffle ${seed}`;
      const base = { id, guestName: name, guestFirstName: 'Shuffle', guestLastName: String(seed) };
      const created = hostawayDelivery('reservation.created', base);
      const updated = hostawayDelivery('reservation.updated', { ...base, status: 'modified', departureDate: '2026-07-17' });
      const cancelled = hostawayDelivery('reservation.updated', { ...base, status: 'cancelled', departureDate: '2026-07-17' });
      // Three copies each: the same bytes twice (SQS drops the repeat) and once re-serialised,
      // as a PMS retry after the 5-minute deduplication window would look.
      const copies = (d: unknown) => [JSON.stringify(d), JSON.stringify(d), JSON.stringify(d, null, 1)];

      let most = 0;
      const watch = setInterval(() => (most = Math.max(most, guestsNamed(name).length)), 5);
      try {
        for (const body of shuffled([...copies(created), ...copies(updated)], seed)) {
          expect((await sendHostaway(stack, body)).status).toBe(202);
        }
        await stack.drain();
        expect(guestsNamed(name)).toHaveLength(1);
        expect(guestsNamed(name)[0]!.checkout_time).toBe('2026-07-17T09:00:00.000Z');

        for (const body of shuffled([...copies(created), ...copies(updated), ...copies(cancelled)], seed + 100)) {
          expect((await sendHostaway(stack, body)).status).toBe(202);
        }
        await stack.drain();
      } finally {
        clearInterval(watch);
      }
      expect(most).toBe(1);
      expect(guestsNamed(name)).toHaveLength(0);
      const creates = stack.sandbox.minut.requestLog().filter((e) => e.route === 'POST /homes/:home_id/guests');
      expect(creates).toHaveLength(1);
    });
  }

  it('removes a guest when the reservation turns into an owner stay, and never creates one for an inquiry', async () => {
    const base = { id: 700010, guestName: 'Owner Turn', guestFirstName: 'Owner', guestLastName: 'Turn' };
    await sendHostaway(stack, hostawayDelivery('reservation.created', base));
    await stack.drain();
    expect(guestsNamed('Owner Turn')).toHaveLength(1);
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'ownerStay' }));
    await stack.drain();
    expect(guestsNamed('Owner Turn')).toHaveLength(0);

    const inquiry = await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 700011, guestName: 'Just Asking', status: 'inquiry' }));
    expect(inquiry.status).toBe(202);
    await stack.drain();
    expect(guestsNamed('Just Asking')).toHaveLength(0);
  });

  it('drops a bad phone but still creates the guest, which Minut flags for missing contact', async () => {
    const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 700020, guestName: 'No Contact', phone: 'call me maybe', guestEmail: 'not-an-email' }));
    expect(reply.status).toBe(202);
    await stack.drain();
    expect(guestsNamed('No Contact')[0]).toMatchObject({ phone_number: null, email: null, validation_errors: ['missing_phone_number_and_email'] });
    const key = { connectionId: 'hostaway-demo', reservationId: '700020' };
    const snapshot = await storeFor(stack).getSnapshot(key);
    expect(snapshot?.reservation.dropped).toEqual([
      { field: 'guest.email', reason: 'invalid_email' },
      { field: 'guest.phone', reason: 'invalid_phone' },
    ]);
    expect((await storeFor(stack).getTargetState(key, 'minut'))?.warnings).toEqual(['missing_phone_number_and_email']);
  });

  it('parks a reservation for a property missing from the config instead of rejecting it', async () => {
    const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 700030, listingMapId: 999999 }));
    expect(reply.status).toBe(202);
    await stack.drain();
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'hostaway-demo', reservationId: '700030' });
    expect(snapshot).toMatchObject({ unrouted: true, reservation: { propertyId: '999999' } });
    expect(stack.sandbox.minut.counters().requests).toBe(0);
  });
});
