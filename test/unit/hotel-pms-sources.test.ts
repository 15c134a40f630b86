import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import type { SecretStore } from '../../functions/core/secrets.ts';
import type { Store } from '../../functions/core/store.ts';
import { apaleo, normaliseApaleoReservation } from '../../functions/sources/apaleo.ts';
import { cloudbeds, normaliseCloudbedsReservation } from '../../functions/sources/cloudbeds.ts';
import { mews, normaliseMewsReservation } from '../../functions/sources/mews.ts';
import { createTargets } from '../../functions/targets/registry.ts';

/**
 * apaleo, Mews and Cloudbeds adapters without the stack: event selection and batching,
 * statuses (no-show and the front desk's check-in and check-out included), the party split,
 * and dates and times in three zones across DST changes, down to what each target is sent.
 */

const allTargets = { minut: { homeId: 'h' }, recepai: { hotelSlug: 'hotel', roomNumber: '1', rooms: { U2: '2' } }, kasify: { propertyId: 'k' }, hostelmate: { roomId: 'r', rooms: { U2: 'r2' } } };
const property = (timeZone: string) => ({ timeZone, checkInTime: '15:00', checkOutTime: '11:00', country: 'SE', targets: allTargets });
const properties = { P1: property('Europe/Stockholm'), P2: property('America/New_York'), P3: property('Australia/Sydney') };
const config = parseConfig({
  connections: {
    a: { pms: 'apaleo', secret: 'a', api: { baseUrl: 'http://127.0.0.1:1/apaleo', credentials: 'a-api' }, properties },
    m: { pms: 'mews', secret: 'm', api: { baseUrl: 'http://127.0.0.1:1/mews', credentials: 'm-api' }, properties },
    c: { pms: 'cloudbeds', secret: 'c', api: { baseUrl: 'http://127.0.0.1:1/cloudbeds', credentials: 'c-api' }, properties },
  },
  targets: {
    minut: { baseUrl: 'http://127.0.0.1:1/minut/v8', credentials: 'm' },
    recepai: { baseUrl: 'http://127.0.0.1:1/recepai', credentials: 'r' },
    kasify: { baseUrl: 'http://127.0.0.1:1/kasify', credentials: 'k' },
    hostelmate: { baseUrl: 'http://127.0.0.1:1/hostelmate', credentials: 'h' },
  },
});
const refusal = (code: string, statusCode = 400) => expect.objectContaining({ statusCode, code });
const ages = new Map([['ADULT', 'Adult'], ['CHILD', 'Child']]);
const customer = { FirstName: 'Ines', LastName: 'Ortiz', Email: 'ines@example.com', Phone: '+46701234567', NationalityCode: 'SE', PreferredLanguageCode: 'sv-SE' };

describe('events', () => {
  it('apaleo: a reservation event is a thin event; the health check and other topics are acknowledged', () => {
    expect(apaleo.parse({ topic: 'Reservation', type: 'set-to-no-show', propertyId: 'P1', timestamp: 1777713267512, data: { entityId: 'ABC-1' } }, {} as never)).toEqual({
      kind: 'thin',
      events: [{ kind: 'reservation_ref', reservationId: 'ABC-1', propertyId: 'P1', hints: { event: 'reservation/set-to-no-show', version: 1777713267512 } }],
    });
    expect(apaleo.parse({ topic: 'system', type: 'healthcheck', propertyIds: ['P1'] }, {} as never)).toEqual({ kind: 'ignored', reason: 'system:healthcheck' });
    expect(apaleo.parse({ topic: 'Folio', type: 'created', data: { entityId: 'F' } }, {} as never)).toMatchObject({ kind: 'ignored' });
    expect(() => apaleo.parse({ topic: 'Reservation', type: 'changed', data: {} }, {} as never)).toThrow(refusal('missing_field'));
  });

  it('Mews: one thin event per reservation and per updated customer, repeats removed, other kinds ignored', () => {
    const batch = {
      EnterpriseId: 'E',
      Events: [
        { Discriminator: 'ServiceOrderUpdated', Value: { Id: 'R1' } },
        { Discriminator: 'CustomerAdded', Value: { Id: 'C1' } },
        { Discriminator: 'CustomerUpdated', Value: { Id: 'C1' } },
        { Discriminator: 'ServiceOrderUpdated', Value: { Id: 'R2' } },
        { Discriminator: 'ServiceOrderUpdated', Value: { Id: 'R1' } },
        { Discriminator: 'ResourceUpdated', Value: { Id: 'X' } },
        'not an event',
      ],
    };
    expect(mews.parse(batch, {} as never)).toEqual({
      kind: 'thin',
      events: [
        { kind: 'reservation_ref', reservationId: 'R1', propertyId: 'E', hints: { event: 'ServiceOrderUpdated', enterpriseId: 'E' } },
        { kind: 'reservation_ref', reservationId: 'R2', propertyId: 'E', hints: { event: 'ServiceOrderUpdated', enterpriseId: 'E' } },
        { kind: 'client_ref', clientId: 'C1', hints: { event: 'CustomerUpdated', enterpriseId: 'E' } },
      ],
    });
    expect(mews.parse({ EnterpriseId: 'E', Events: [] }, {} as never)).toEqual({ kind: 'ignored', reason: 'empty_batch' });
    expect(() => mews.parse({ Events: [] }, {} as never)).toThrow(refusal('missing_field'));
  });

  it.each([
    ['reservationID / propertyID', { reservationID: '7', propertyID: 318267, event: 'reservation/created', timestamp: 1777713267.512843 }],
    ['reservationId / propertyId (dates_changed)', { reservationId: '7', propertyId: 318267, propertyId_str: '318267', event: 'reservation/created', timestamp: 1777713267.512843 }],
  ])('Cloudbeds reads %s alike, and orders by the float timestamp', (_, body) => {
    expect(cloudbeds.parse(body, {} as never)).toEqual({ kind: 'thin', events: [{ kind: 'reservation_ref', reservationId: '7', propertyId: '318267', hints: { event: 'reservation/created', version: 1777713267513 } }] });
  });
});

describe('statuses', () => {
  const apaleoStatus = (status: string) =>
    normaliseApaleoReservation({ id: 'A-1', status, arrival: '2026-07-10T15:00:00+02:00', departure: '2026-07-12T11:00:00+02:00', property: { id: 'P1' } }, 'a', config.connections.a!, 1, 'reservation').status;
  it.each([['Confirmed', 'confirmed'], ['InHouse', 'checked_in'], ['CheckedOut', 'checked_out'], ['Canceled', 'cancelled'], ['NoShow', 'cancelled'], ['Unknown', 'tentative']])('apaleo %s -> %s', (status, expected) => expect(apaleoStatus(status)).toBe(expected));

  const mewsStatus = (State: string, CancellationReason: string | null = null) =>
    normaliseMewsReservation({ Id: 'M', State, CancellationReason, ScheduledStartUtc: '2026-07-10T13:00:00Z', ScheduledEndUtc: '2026-07-12T09:00:00Z', UpdatedUtc: '2026-05-01T00:00:00Z' }, null, ages, 'P1', 'm', config.connections.m!, 'reservation');
  it.each([['Confirmed', 'confirmed'], ['Started', 'checked_in'], ['Processed', 'checked_out'], ['Canceled', 'cancelled'], ['Optional', 'tentative'], ['Requested', 'tentative'], ['Inquired', 'inquiry']])('Mews %s -> %s', (state, expected) => expect(mewsStatus(state).status).toBe(expected));
  it('Mews: a no-show is a cancellation with the NoShow reason, kept in sourceStatus', () => expect(mewsStatus('Canceled', 'NoShow')).toMatchObject({ status: 'cancelled', sourceStatus: 'Canceled/NoShow' }));

  const cloudbedsStatus = (status: string) =>
    normaliseCloudbedsReservation({ reservationID: '7', propertyID: 'P1', status, startDate: '2026-07-10', endDate: '2026-07-12' }, 'c', config.connections.c!, 1, 'data').status;
  it.each([['confirmed', 'confirmed'], ['not_confirmed', 'tentative'], ['checked_in', 'checked_in'], ['checked_out', 'checked_out'], ['canceled', 'cancelled'], ['no_show', 'cancelled']])('Cloudbeds %s -> %s', (status, expected) => expect(cloudbedsStatus(status)).toBe(expected));
});

describe('guests and parties', () => {
  it('Mews: adults and children by the age categories; unknown categories only in the total; an OTA relay email is no email', () => {
    const r = normaliseMewsReservation(
      { Id: 'M', State: 'Confirmed', ScheduledStartUtc: '2026-07-10T13:00:00Z', ScheduledEndUtc: '2026-07-12T09:00:00Z', UpdatedUtc: '2026-05-01T00:00:00Z', AssignedResourceId: 'U2', PersonCounts: [{ AgeCategoryId: 'ADULT', Count: 2 }, { AgeCategoryId: 'CHILD', Count: 1 }, { AgeCategoryId: 'OTHER', Count: 1 }] },
      { ...customer, HasOtaEmail: true },
      ages,
      'P1',
      'm',
      config.connections.m!,
      'reservation',
    );
    expect(r).toMatchObject({ party: { adults: 2, children: 1, infants: null }, partySize: 4, unitId: 'U2', guest: { firstName: 'Ines', lastName: 'Ortiz', email: null, phone: '+46701234567', language: 'sv' } });
  });

  it('Cloudbeds: the main guest of the guest map, counts summed over rooms (sent as strings), the first room as the unit', () => {
    const r = normaliseCloudbedsReservation(
      {
        reservationID: '7', propertyID: 'P1', status: 'confirmed', startDate: '2026-07-10', endDate: '2026-07-12', guestName: 'Ines Ortiz',
        guestList: { g2: { guestFirstName: 'Other', guestLastName: 'Person', isMainGuest: false }, g1: { guestFirstName: 'Ines', guestLastName: 'Ortiz', guestEmail: 'ines@example.com', guestCellPhone: '070-123 45 67', isMainGuest: true } },
        assigned: [{ roomID: 'U2', adults: '2', children: '0' }, { roomID: 'U3', adults: '1', children: '1' }],
      },
      'c', config.connections.c!, 1, 'data',
    );
    expect(r).toMatchObject({ unitId: 'U2', party: { adults: 3, children: 1 }, partySize: 4, guest: { firstName: 'Ines', lastName: 'Ortiz', email: 'ines@example.com', phone: '+46701234567' } });
  });

  it('apaleo: the primary guest inline, children from childrenAges, the unit id', () => {
    const r = normaliseApaleoReservation(
      { id: 'A-1', status: 'Confirmed', arrival: '2026-07-10T15:00:00+02:00', departure: '2026-07-12T11:00:00+02:00', property: { id: 'P1' }, unit: { id: 'U2' }, adults: 2, childrenAges: [4, 9], primaryGuest: { firstName: 'Ines', lastName: 'Ortiz', email: 'ines@example.com', preferredLanguage: 'es' }, modified: '2026-05-01T10:00:00+02:00' },
      'a', config.connections.a!, 1, 'reservation',
    );
    expect(r).toMatchObject({ unitId: 'U2', party: { adults: 2, children: 2 }, partySize: 4, guest: { language: 'es' }, sourceVersion: Date.parse('2026-05-01T08:00:00Z') });
  });
});

/**
 * The nights the clocks change: each PMS's own convention (apaleo: the property's offset;
 * Mews: UTC instants; Cloudbeds: local dates and the property's default times) gives the same
 * local stay, and every target is sent the same local dates and the same instants.
 */
describe('dates and times across zones and DST changes', () => {
  const cases = [
    { key: 'P1', zone: 'Europe/Stockholm', arrival: '2026-03-28', departure: '2026-03-30', offsetIn: '+01:00', offsetOut: '+02:00', utcIn: '2026-03-28T14:00:00Z', utcOut: '2026-03-30T09:00:00Z' },
    { key: 'P2', zone: 'America/New_York', arrival: '2026-10-31', departure: '2026-11-02', offsetIn: '-04:00', offsetOut: '-05:00', utcIn: '2026-10-31T19:00:00Z', utcOut: '2026-11-02T16:00:00Z' },
    { key: 'P3', zone: 'Australia/Sydney', arrival: '2026-04-04', departure: '2026-04-06', offsetIn: '+11:00', offsetOut: '+10:00', utcIn: '2026-04-04T04:00:00Z', utcOut: '2026-04-06T01:00:00Z' },
  ];

  it.each(cases)('$zone, $arrival to $departure', (c) => {
    const fromApaleo = normaliseApaleoReservation(
      { id: 'A-1', status: 'Confirmed', arrival: `${c.arrival}T15:00:00${c.offsetIn}`, departure: `${c.departure}T11:00:00${c.offsetOut}`, property: { id: c.key }, primaryGuest: { lastName: 'Ortiz', email: 'ines@example.com' } },
      'a', config.connections.a!, 1, 'reservation',
    );
    const fromMews = normaliseMewsReservation({ Id: 'M', State: 'Confirmed', ScheduledStartUtc: c.utcIn, ScheduledEndUtc: c.utcOut, UpdatedUtc: '2026-01-01T00:00:00Z' }, customer, ages, c.key, 'm', config.connections.m!, 'reservation');
    const fromCloudbeds = normaliseCloudbedsReservation({ reservationID: '7', propertyID: c.key, status: 'confirmed', startDate: c.arrival, endDate: c.departure, guestName: 'Ines Ortiz' }, 'c', config.connections.c!, 1, 'data');

    const targets = createTargets({ config, secrets: {} as SecretStore, store: {} as Store, now: () => Date.parse(c.utcIn) + 3_600_000 });
    for (const [r, connection] of [[fromApaleo, 'a'], [fromMews, 'm'], [fromCloudbeds, 'c']] as const) {
      expect(r.stay.checkInDate).toBe(c.arrival);
      expect(r.stay.checkOutDate).toBe(c.departure);
      const prop = config.connections[connection]!.properties[c.key]!;
      expect(targets.minut!.desired(r, prop)).toMatchObject({ checkin_time: c.utcIn, checkout_time: c.utcOut });
      expect(targets.kasify!.desired(r, prop)).toMatchObject({ booking: { from: c.arrival, to: c.departure, checkin_time: '15:00', checkout_time: '11:00' } });
      expect(targets.recepai!.desired(r, prop)).toMatchObject({ guest: { checkInDate: c.arrival, checkOutDate: c.departure } });
      expect(targets.hostelmate!.desired(r, prop)).toMatchObject({ dates: [{ date: c.arrival }, { date: expect.any(String) }] });
    }
  });
});

describe('apaleo verification', () => {
  const delivery = (extra: Record<string, unknown>) => ({ rawBody: '{}', headers: {}, ...extra });
  const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

  it('takes a URL token, or HTTP Basic credentials when the secret is a user and password', () => {
    const token = { urlToken: 'a-token-of-at-least-24-characters' };
    expect(apaleo.verify(delivery({ urlToken: token.urlToken }), token, {} as never)).toEqual({});
    expect(() => apaleo.verify(delivery({}), token, {} as never)).toThrow(refusal('missing_token', 401));
    const login = { username: 'apaleo', password: 'a long random password' };
    expect(apaleo.verify(delivery({ headers: basic('apaleo', 'a long random password') }), login, {} as never)).toEqual({});
    expect(() => apaleo.verify(delivery({ headers: basic('apaleo', 'wrong') }), login, {} as never)).toThrow(refusal('invalid_credentials', 401));
    expect(() => apaleo.verify(delivery({ urlToken: 'anything-at-all-of-24-chars' }), login, {} as never)).toThrow(refusal('missing_credentials', 401));
  });

  it('takes the previous credentials during a rotation, and only the new ones after it', () => {
    const previous = { username: 'apaleo', password: 'the previous long password' };
    const next = { username: 'apaleo', password: 'the next long random password' };
    const rotating = { current: next, previous };
    // Twice each: the credentials read from a secret object are kept for that object.
    for (let i = 0; i < 2; i++) {
      expect(apaleo.verify(delivery({ headers: basic('apaleo', previous.password) }), rotating, {} as never)).toEqual({});
      expect(apaleo.verify(delivery({ headers: basic('apaleo', next.password) }), rotating, {} as never)).toEqual({});
      expect(() => apaleo.verify(delivery({ headers: basic('apaleo', previous.password) }), next, {} as never)).toThrow(refusal('invalid_credentials', 401));
      expect(() => apaleo.verify(delivery({ urlToken: 'a-token-of-at-least-24-characters' }), next, {} as never)).toThrow(refusal('missing_credentials', 401));
    }
  });
});
