import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import { emptyGuest, type Reservation } from '../../functions/core/reservation.ts';
import { aReservation } from '../support/reservation.ts';
import { bookingIdOf } from '../../functions/targets/hostelmate.ts';
import { Warnings, idempotencyHash, isoCountry, isoLanguage, nightsOf, phoneE164, splitName, stayInstants, uuidV4FromHash } from '../../functions/targets/normalise.ts';

const property = parseConfig({
  connections: { c: { pms: 'generic', secret: 's', properties: { p: { timeZone: 'Europe/Stockholm', country: 'SE', targets: {} } } } },
  targets: {},
}).connections.c!.properties.p!;

const reservation: Reservation = aReservation({ partySize: 2, party: { adults: 2, children: null, infants: null } });

describe('normalisation before a send', () => {
  it('sends a phone in E.164 as the source normalised it, and drops anything else', () => {
    const warnings = new Warnings();
    expect(phoneE164({ ...emptyGuest, phone: '+46701234567' }, warnings)).toBe('+46701234567');
    expect(phoneE164({ ...emptyGuest, phone: null }, warnings)).toBeNull();
    expect(phoneE164({ ...emptyGuest, phone: '070-123 45 67' }, warnings)).toBeNull();
    expect(phoneE164({ ...emptyGuest, phone: '+46 70 123 45 67' }, warnings, 'guest_phone')).toBeNull();
    expect(warnings.list).toEqual(['dropped:phone:invalid_phone', 'dropped:guest_phone:invalid_phone']);
  });

  it('accepts only real ISO 3166-1 alpha-2 countries and ISO 639-1 languages', () => {
    const warnings = new Warnings();
    expect(isoCountry('se', warnings)).toBe('SE');
    expect(isoCountry('XX', warnings)).toBeNull();
    expect(isoCountry('EU', warnings)).toBeNull();
    expect(isoLanguage('SV', warnings)).toBe('sv');
    expect(isoLanguage('qq', warnings)).toBeNull();
    expect(warnings.list).toEqual(['dropped:country:not_iso_3166_alpha2', 'dropped:country:not_iso_3166_alpha2', 'dropped:language:not_iso_639_1']);
  });

  it('splits a lone full name at its last space, and keeps given parts', () => {
    expect(splitName({ ...emptyGuest, fullName: 'Ana María  López' })).toEqual({ first: 'Ana María', last: 'López' });
    expect(splitName({ ...emptyGuest, fullName: 'Cher' })).toEqual({ first: null, last: 'Cher' });
    expect(splitName({ ...emptyGuest, firstName: 'Jo', fullName: 'Jo Bloggs' })).toEqual({ first: 'Jo', last: null });
  });

  it('places the stay in the property time zone across a DST change, and lists its nights', () => {
    expect(stayInstants(reservation, property)).toEqual({ startsAt: Date.parse('2026-10-23T13:00:00Z'), endsAt: Date.parse('2026-10-27T10:00:00Z') });
    expect(nightsOf('2026-10-23', '2026-10-27')).toEqual(['2026-10-23', '2026-10-24', '2026-10-25', '2026-10-26']);
  });
});

describe('deterministic ids and keys', () => {
  it('shapes a hash as a UUID v4 (version and variant bits set)', () => {
    for (const hex of ['0'.repeat(64), 'f'.repeat(64), '0123456789abcdef'.repeat(4)]) {
      expect(uuidV4FromHash(hex)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('gives a reservation the same HostelMate booking id every time, and another reservation another', () => {
    expect(bookingIdOf(reservation)).toBe(bookingIdOf({ ...reservation, sourceVersion: 9 }));
    expect(bookingIdOf(reservation)).not.toBe(bookingIdOf({ ...reservation, reservationId: 'R-2' }));
  });

  it('derives the same idempotency key for a retry, another for other content or a later snapshot', () => {
    const key = idempotencyHash(reservation, 'recepai', 'update', 'fp-a');
    expect(idempotencyHash(reservation, 'recepai', 'update', 'fp-a')).toBe(key);
    expect(idempotencyHash(reservation, 'recepai', 'update', 'fp-b')).not.toBe(key);
    expect(idempotencyHash(reservation, 'recepai', 'checkin', 'fp-a')).not.toBe(key);
    expect(idempotencyHash({ ...reservation, sourceVersion: 2 }, 'recepai', 'update', 'fp-a')).not.toBe(key);
  });
});
