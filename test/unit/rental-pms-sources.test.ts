import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import type { SecretStore } from '../../functions/core/secrets.ts';
import type { Store } from '../../functions/core/store.ts';
import { localToInstant } from '../../functions/core/local-time.ts';
import { createTargets } from '../../functions/targets/registry.ts';
import { hospitable, normaliseHospitableReservation, signHospitable, ulidTime } from '../../functions/sources/hospitable.ts';
import { lodgify, normaliseLodgifyBooking, signLodgify } from '../../functions/sources/lodgify.ts';
import { normaliseSmoobuReservation, smoobu } from '../../functions/sources/smoobu.ts';
import type { Delivery, SourceContext } from '../../functions/sources/source.ts';
import { verifyUrlToken } from '../../functions/sources/url-token.ts';

/**
 * Lodgify, Hospitable and Smoobu adapters without the stack: signatures against public vectors
 * (Hospitable) or values computed with openssl (Lodgify), the URL token, event selection,
 * statuses, and dates and times in several time zones across DST changes.
 */

const vectors = (JSON.parse(readFileSync(new URL('../fixtures/signature-vectors.json', import.meta.url), 'utf8')) as { vectors: { name: string; secret: string; headers: Record<string, string>; body: string; expected_valid: boolean }[] }).vectors;

/** Every property routed to all four targets, so their records can be checked too. */
const allTargets = {
  minut: { homeId: 'h' },
  recepai: { hotelSlug: 'hotel', roomNumber: '1' },
  kasify: { propertyId: 'k' },
  hostelmate: { roomId: 'r' },
};
const property = (timeZone: string) => ({ timeZone, country: 'SE', targets: allTargets });
const config = parseConfig({
  connections: {
    l: { pms: 'lodgify', secret: 'l', api: { baseUrl: 'http://127.0.0.1:1/lodgify', credentials: 'l-api' }, properties: { '1': property('Europe/Stockholm'), '2': property('America/New_York'), '3': property('Australia/Sydney') } },
    h: { pms: 'hospitable', secret: 'h', api: { baseUrl: 'http://127.0.0.1:1/hospitable/v2', credentials: 'h-api' }, properties: { a: property('Europe/Stockholm'), b: property('America/New_York'), c: property('Australia/Sydney') } },
    s: { pms: 'smoobu', secret: 's', api: { baseUrl: 'http://127.0.0.1:1/smoobu', credentials: 's-api' }, properties: { '1': property('Europe/Stockholm'), '2': property('America/New_York'), '3': property('Australia/Sydney') } },
  },
  targets: {
    minut: { baseUrl: 'http://127.0.0.1:1/minut/v8', credentials: 'm' },
    recepai: { baseUrl: 'http://127.0.0.1:1/recepai', credentials: 'r' },
    kasify: { baseUrl: 'http://127.0.0.1:1/kasify', credentials: 'k' },
    hostelmate: { baseUrl: 'http://127.0.0.1:1/hostelmate', credentials: 'h' },
  },
});
const context = (id: 'l' | 'h' | 's'): SourceContext => ({ connectionId: id, connection: config.connections[id]!, now: Date.parse('2026-03-01T00:00:00Z') });
const delivery = (rawBody: string, headers: Record<string, string> = {}, extra: Partial<Delivery> = {}): Delivery => ({ rawBody, headers, ...extra });
const refusal = (code: string, statusCode = 401) => expect.objectContaining({ statusCode, code });

describe('signatures', () => {
  it.each(vectors.filter((v) => v.name.startsWith('hospitable')))('Hospitable public vector $name', (v) => {
    const check = () => hospitable.verify(delivery(v.body, { signature: v.headers.Signature! }), v.secret, context('h'));
    if (v.expected_valid) expect(check()).toEqual({});
    else expect(check).toThrow(refusal('invalid_signature'));
  });

  it('Hospitable: a missing header is 401 missing_signature; the secret may rotate', () => {
    expect(() => hospitable.verify(delivery('{}'), 'k', context('h'))).toThrow(refusal('missing_signature'));
    expect(hospitable.verify(delivery('{}', { signature: signHospitable('old', '{}') }), { current: 'new', previous: 'old' }, context('h'))).toEqual({});
  });

  // Computed independently: printf '%s' "$BODY" | openssl dgst -sha256 -hmac demo-lodgify-booking-change-secret
  const lodgifyBody = '{"action":"booking_change","booking":{"id":5512034,"property_id":331207,"status":"Booked","date_arrival":"2026-07-10T00:00:00","date_departure":"2026-07-14T00:00:00"}}';
  const lodgifyExpected = 'sha256=186cd27dce083f61d38e375969854c7e9cb07295fa3266807ada770ae5ca316c';

  it('Lodgify: matches openssl, with any of the subscriptions\' secrets', () => {
    expect(signLodgify('demo-lodgify-booking-change-secret', lodgifyBody)).toBe(lodgifyExpected);
    const secrets = ['demo-lodgify-booking-new-secret', 'demo-lodgify-booking-change-secret'];
    // A delivery id per receipt: the body is only a hint, and the same body may come for a later change.
    const receipt = { deliveryId: expect.stringMatching(/^receipt-/) };
    expect(lodgify.verify(delivery(lodgifyBody, { 'ms-signature': lodgifyExpected }), secrets, context('l'))).toEqual(receipt);
    expect(lodgify.verify(delivery(lodgifyBody, { 'ms-signature': lodgifyExpected.toUpperCase().replace('SHA256', 'sha256') }), secrets, context('l'))).toEqual(receipt);
  });

  it.each([
    ['no header', {}, 'missing_signature'],
    ['another secret', { 'ms-signature': signLodgify('other', lodgifyBody) }, 'invalid_signature'],
    ['bare hex without sha256=', { 'ms-signature': lodgifyExpected.slice(7) }, 'invalid_signature'],
    ['another body', { 'ms-signature': signLodgify('demo-lodgify-booking-change-secret', `${lodgifyBody} `) }, 'invalid_signature'],
  ])('Lodgify: %s is refused', (_, headers, code) => {
    expect(() => lodgify.verify(delivery(lodgifyBody, headers as Record<string, string>), ['demo-lodgify-booking-change-secret'], context('l'))).toThrow(refusal(code));
  });
});

describe('URL token', () => {
  const token = 'a-token-of-at-least-24-characters';
  it.each([
    [undefined, 'missing_token'],
    ['', 'missing_token'],
    [`${token}x`, 'invalid_token'],
    [token.slice(1), 'invalid_token'],
  ])('%j is refused (%s)', (offered, code) => {
    expect(() => verifyUrlToken(delivery('{}', {}, offered === undefined ? {} : { urlToken: offered }), { urlToken: token })).toThrow(refusal(code));
  });

  it('accepts the token, the previous one during a rotation, and refuses a guessable secret', () => {
    expect(verifyUrlToken(delivery('{}', {}, { urlToken: token }), { urlToken: token })).toEqual({});
    expect(verifyUrlToken(delivery('{}', {}, { urlToken: token }), { current: { urlToken: `${token}-new` }, previous: { urlToken: token } })).toEqual({});
    // Once the rotation is over, the old token is refused (the accepted tokens' digests are kept by token).
    expect(() => verifyUrlToken(delivery('{}', {}, { urlToken: token }), { urlToken: `${token}-new` })).toThrow(refusal('invalid_token'));
    expect(() => verifyUrlToken(delivery('{}', {}, { urlToken: 'short' }), { urlToken: 'short' })).toThrow(/at least 24/);
  });

  it('is what Smoobu verifies', () => {
    expect(() => smoobu.verify(delivery('{}'), { urlToken: token }, context('s'))).toThrow(refusal('missing_token'));
  });
});

describe('events', () => {
  const booking = { id: 7, property_id: 1, status: 'Booked', date_arrival: '2026-07-10T00:00:00', date_departure: '2026-07-14T00:00:00', room_types: [{ room_type_id: 9, people: 3 }] };

  it('Lodgify: booking events become one thin event per booking (the last of a batch wins); others are ignored', () => {
    const parsed = lodgify.parse(
      [
        { action: 'booking_new_status_booked', booking },
        { action: 'guest_message_received', message: {} },
        { action: 'booking_status_change_declined', booking: { ...booking, status: 'Declined' } },
        { action: 'booking_change', booking: { ...booking, id: 8 } },
      ],
      context('l'),
    );
    expect(parsed).toMatchObject({ kind: 'thin', events: [{ reservationId: '7', partial: { status: 'cancelled' }, hints: { event: 'booking_status_change_declined' } }, { reservationId: '8' }] });
    expect(lodgify.parse({ action: 'rate_change' }, context('l'))).toEqual({ kind: 'ignored', reason: 'not_a_booking_event:rate_change' });
    expect(lodgify.parse({ event: 'booking_change', data: { bookingId: 42 } }, context('l'))).toMatchObject({ kind: 'thin', events: [{ reservationId: '42', hints: { event: 'booking_change' } }] });
  });

  it.each([
    ['no action', { booking }, 'missing_field'],
    ['a booking event without a booking', { action: 'booking_change' }, 'missing_field'],
    ['an unreadable arrival', { action: 'booking_change', booking: { ...booking, date_arrival: '10/07/2026' } }, 'invalid_field'],
    ['departure before arrival', { action: 'booking_change', booking: { ...booking, date_departure: '2026-07-01T00:00:00' } }, 'invalid_field'],
    ['a non-object in the batch', [{ action: 'booking_change', booking }, 'x'], 'invalid_payload'],
  ])('Lodgify: %s is a 400 %s', (_, body, code) => {
    expect(() => lodgify.parse(body, context('l'))).toThrow(refusal(code, 400));
  });

  it('Hospitable: full data is a reservation; partial data a thin event ordered by the event time; no id anywhere is a 400', () => {
    const fixture = JSON.parse(readFileSync(new URL('../../examples/hospitable-reservation.created.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const data: Record<string, unknown> = { ...(fixture.data as Record<string, unknown>), properties: [{ id: 'a' }] };
    const full = hospitable.parse({ ...fixture, data }, context('h'));
    expect(full).toMatchObject({ kind: 'reservations', reservations: [{ reservationId: data.id, propertyId: 'a', status: 'confirmed', party: { adults: 2, children: 1, infants: 0 }, partySize: 3 }] });
    const partial = hospitable.parse({ ...fixture, action: 'reservation.changed', data: { id: data.id, check_in: data.check_in } }, context('h'));
    // The fixture's ULID time (2024) disagrees with its `created` (2026): `created` orders it.
    expect(partial).toMatchObject({ kind: 'thin', events: [{ kind: 'reservation_ref', reservationId: data.id as string, hints: { event: 'reservation.changed', version: Date.parse(String(fixture.created)) } }] });
    expect(() => hospitable.parse({ ...fixture, action: 'reservation.changed', data: { check_in: data.check_in } }, context('h'))).toThrow(refusal('missing_field', 400));
    expect(() => hospitable.parse({ ...fixture, created: undefined }, context('h'))).toThrow(refusal('missing_field', 400));
    expect(hospitable.parse({ ...fixture, action: 'message.created' }, context('h'))).toEqual({ kind: 'ignored', reason: 'not_a_reservation_event:message.created' });
    expect(hospitable.parse({ ...fixture, action: 'reservation.updated', data }, context('h'))).toMatchObject({ kind: 'reservations' });
  });

  it('Hospitable: the ULID refines `created` to the millisecond, and only when they agree', () => {
    // Decoded independently (Crockford base32 of the first 10 characters): 2024-06-22T06:02:00.709Z.
    expect(ulidTime('01J0Z8K3M5N7P9Q1R3S5T7V9X1')).toBe(1719036120709);
    expect(ulidTime('not-a-ulid')).toBeUndefined();
    expect(ulidTime('81J0Z8K3M5N7P9Q1R3S5T7V9X1')).toBeUndefined(); // past the 48-bit time range
    const at = (id: string, created: string) => hospitable.parse({ id, action: 'reservation.changed', created, data: { id: 'r' } }, context('h'));
    expect(at('01J0Z8K3M5N7P9Q1R3S5T7V9X1', '2024-06-22T06:02:00Z')).toMatchObject({ events: [{ hints: { version: 1719036120709 } }] });
    expect(at('01J0Z8K3M5N7P9Q1R3S5T7V9X1', '2026-05-02T09:14:28Z')).toMatchObject({ events: [{ hints: { version: Date.parse('2026-05-02T09:14:28Z') } }] });
  });

  it('Smoobu: reservation actions are thin events (the API is re-read); a cancel action cancels the fallback; others are ignored', () => {
    const data = { id: 5, apartment: { id: 1 }, arrival: '2026-07-10', departure: '2026-07-14', type: 'reservation' };
    expect(smoobu.parse({ action: 'newReservation', data }, context('s'))).toMatchObject({ kind: 'thin', events: [{ reservationId: '5', propertyId: '1', partial: { status: 'confirmed' } }] });
    expect(smoobu.parse({ action: 'cancelReservation', data }, context('s'))).toMatchObject({ events: [{ partial: { status: 'cancelled' } }] });
    expect(smoobu.parse({ action: 'newMessage', data: {} }, context('s'))).toEqual({ kind: 'ignored', reason: 'not_a_reservation_event:newMessage' });
    expect(() => smoobu.parse({ action: 'updateReservation', data: { ...data, arrival: '2026-7-10' } }, context('s'))).toThrow(refusal('invalid_field', 400));
    expect(() => smoobu.parse({ action: 'updateReservation' }, context('s'))).toThrow(refusal('missing_field', 400));
  });
});

describe('statuses', () => {
  const lodgifyStatus = (fields: Record<string, unknown>) =>
    normaliseLodgifyBooking({ id: 1, property_id: 1, arrival: '2026-07-10', departure: '2026-07-12', status: 'Booked', ...fields }, undefined, 'l', config.connections.l!, 1, 'booking').status;
  it.each([
    [{ status: 'Booked' }, 'confirmed'],
    [{ status: 'Tentative' }, 'tentative'],
    [{ status: 'Open' }, 'inquiry'],
    [{ status: 'Declined' }, 'cancelled'],
    [{ status: 'Booked', canceled_at: '2026-05-01T00:00:00Z' }, 'cancelled'],
    [{ status: 'Booked', is_deleted: true }, 'cancelled'],
    [{ status: 'Booked', is_unavailable: true }, 'owner_block'],
    [{ status: 'SomethingNew' }, 'tentative'],
  ])('Lodgify %j -> %s', (fields, status) => expect(lodgifyStatus(fields)).toBe(status));

  const hospitableStatus = (current: unknown, legacy?: string) =>
    normaliseHospitableReservation({ id: 'r', arrival_date: '2026-07-10T00:00:00+02:00', departure_date: '2026-07-12T00:00:00+02:00', properties: [{ id: 'a' }], reservation_status: current === undefined ? undefined : { current }, status: legacy }, 'h', config.connections.h!, 1, 'data').status;
  it.each([
    [{ category: 'accepted', sub_category: null }, undefined, 'confirmed'],
    [{ category: 'request', sub_category: 'request to book' }, undefined, 'tentative'],
    [{ category: 'request', sub_category: 'withdrawn' }, undefined, 'cancelled'],
    [{ category: 'cancelled', sub_category: null }, undefined, 'cancelled'],
    [{ category: 'not accepted', sub_category: 'declined' }, undefined, 'declined'],
    [{ category: 'not accepted', sub_category: 'expired' }, undefined, 'expired'],
    [{ category: 'unknown', sub_category: null }, undefined, 'tentative'],
    [undefined, 'accepted', 'confirmed'],
    [undefined, 'cancelled', 'cancelled'],
  ])('Hospitable %j / legacy %s -> %s', (current, legacy, status) => expect(hospitableStatus(current, legacy)).toBe(status));

  const smoobuStatus = (fields: Record<string, unknown>) =>
    normaliseSmoobuReservation({ id: 1, apartment: { id: 1 }, arrival: '2026-07-10', departure: '2026-07-12', ...fields }, 's', config.connections.s!, 1, 'data').status;
  it.each([
    [{ type: 'reservation' }, 'confirmed'],
    [{ type: 'modification of booking' }, 'confirmed'],
    [{ type: 'cancellation' }, 'cancelled'],
    [{ type: 'reservation', 'is-blocked-booking': true }, 'owner_block'],
  ])('Smoobu %j -> %s', (fields, status) => expect(smoobuStatus(fields)).toBe(status));
});

/**
 * Each PMS's own date convention, for properties in three zones, on the nights the clocks
 * change: the canonical local dates and times, and the instant a target gets from them
 * (localToInstant is what Minut's adapter sends), equal the instant the PMS meant.
 */
describe('dates and times across zones and DST changes', () => {
  const cases = [
    // zone, property keys, arrival, departure, local check-in, local check-out, UTC instants of both
    { zone: 'Europe/Stockholm', keys: { l: '1', h: 'a', s: '1' }, arrival: '2026-03-28', departure: '2026-03-30', in: '15:00', out: '11:00', offsetIn: '+01:00', offsetOut: '+02:00', utcIn: '2026-03-28T14:00:00.000Z', utcOut: '2026-03-30T09:00:00.000Z' },
    { zone: 'America/New_York', keys: { l: '2', h: 'b', s: '2' }, arrival: '2026-10-31', departure: '2026-11-02', in: '16:00', out: '10:00', offsetIn: '-04:00', offsetOut: '-05:00', utcIn: '2026-10-31T20:00:00.000Z', utcOut: '2026-11-02T15:00:00.000Z' },
    { zone: 'Australia/Sydney', keys: { l: '3', h: 'c', s: '3' }, arrival: '2026-04-04', departure: '2026-04-06', in: '14:00', out: '10:00', offsetIn: '+11:00', offsetOut: '+10:00', utcIn: '2026-04-04T03:00:00.000Z', utcOut: '2026-04-06T00:00:00.000Z' },
  ];

  it.each(cases)('$zone, $arrival to $departure', (c) => {
    const lodgifyApi = normaliseLodgifyBooking(
      { id: 1, property_id: Number(c.keys.l), status: 'Booked', arrival: c.arrival, departure: c.departure, check_in: { time: `${c.in}:00` }, check_out: { time: `${c.out}:00` }, guest: { name: 'Ana Lopez', email: 'ana@example.com' } },
      undefined, 'l', config.connections.l!, 1, 'booking',
    );
    const lodgifyHook = normaliseLodgifyBooking({ id: 1, property_id: Number(c.keys.l), status: 'Booked', date_arrival: `${c.arrival}T00:00:00`, date_departure: `${c.departure}T00:00:00` }, {}, 'l', config.connections.l!, 1, 'booking');
    const hosp = normaliseHospitableReservation(
      { id: 'r', arrival_date: `${c.arrival}T00:00:00${c.offsetIn}`, departure_date: `${c.departure}T00:00:00${c.offsetOut}`, check_in: `${c.arrival}T${c.in}:00${c.offsetIn}`, check_out: `${c.departure}T${c.out}:00${c.offsetOut}`, properties: [{ id: c.keys.h }], reservation_status: { current: { category: 'accepted' } }, guest: { first_name: 'Ana', last_name: 'Lopez', email: 'ana@example.com' } },
      'h', config.connections.h!, 1, 'data',
    );
    const smoo = normaliseSmoobuReservation({ id: 1, apartment: { id: Number(c.keys.s) }, arrival: c.arrival, departure: c.departure, 'check-in': c.in, 'check-out': c.out, firstname: 'Ana', lastname: 'Lopez', email: 'ana@example.com' }, 's', config.connections.s!, 1, 'data');

    for (const r of [lodgifyApi, hosp, smoo]) {
      expect(r.stay).toEqual({ checkInDate: c.arrival, checkOutDate: c.departure, checkInTime: c.in, checkOutTime: c.out, timeZone: c.zone });
      expect(new Date(localToInstant(r.stay.checkInDate, r.stay.checkInTime!, r.stay.timeZone!)).toISOString()).toBe(c.utcIn);
      expect(new Date(localToInstant(r.stay.checkOutDate, r.stay.checkOutTime!, r.stay.timeZone!)).toISOString()).toBe(c.utcOut);
    }
    // The webhook has dates only: the property's default hours apply downstream.
    expect(lodgifyHook.stay).toEqual({ checkInDate: c.arrival, checkOutDate: c.departure, checkInTime: null, checkOutTime: null, timeZone: c.zone });

    // What each of the four targets would be sent, with the clock inside the stay (RecepAI holds in-house guests only).
    const targets = createTargets({ config, secrets: {} as SecretStore, store: {} as Store, now: () => Date.parse(c.utcIn) + 3_600_000 });
    for (const [r, connectionId, key] of [[lodgifyApi, 'l', c.keys.l], [hosp, 'h', c.keys.h], [smoo, 's', c.keys.s]] as const) {
      const prop = config.connections[connectionId]!.properties[key]!;
      expect(targets.minut!.desired(r, prop)).toMatchObject({ checkin_time: c.utcIn.replace('.000Z', 'Z'), checkout_time: c.utcOut.replace('.000Z', 'Z') });
      expect(targets.kasify!.desired(r, prop)).toMatchObject({ booking: { from: c.arrival, to: c.departure, checkin_time: c.in, checkout_time: c.out } });
      expect(targets.recepai!.desired(r, prop)).toMatchObject({ guest: { checkInDate: c.arrival, checkOutDate: c.departure } });
      expect(targets.hostelmate!.desired(r, prop)).toMatchObject({ dates: [{ date: c.arrival }, { date: nextDay(c.arrival) }] });
    }
  });

  it('Hospitable: an instant written with another offset still lands at the property\'s local time', () => {
    // 13:00Z is 15:00 in Stockholm in summer, whatever offset the string carries.
    const r = normaliseHospitableReservation({ id: 'r', arrival_date: '2026-07-10T00:00:00+02:00', departure_date: '2026-07-12T00:00:00+02:00', check_in: '2026-07-10T13:00:00Z', properties: [{ id: 'a' }] }, 'h', config.connections.h!, 1, 'data');
    expect(r.stay.checkInTime).toBe('15:00');
  });
});

function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
