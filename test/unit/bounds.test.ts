import { describe, expect, it } from 'vitest';
import { fitReservation } from '../../functions/core/bounds.ts';
import { WebhookError } from '../../functions/core/errors.ts';
import { emptyGuest, LIMITS, nightsBetween, Reservation } from '../../functions/core/reservation.ts';
import { aReservation } from '../support/reservation.ts';

const base: Reservation = aReservation({ guest: { ...emptyGuest, firstName: 'Ana', lastName: 'Silva' }, partySize: 2 });
const fit = (patch: Partial<Reservation>, maxStayNights = 400) => fitReservation({ ...base, ...patch }, { maxStayNights });
const stay = (checkInDate: string, checkOutDate: string) => ({ stay: { ...base.stay, checkInDate, checkOutDate } });

describe('required fields out of bounds: a 400 naming the field', () => {
  const cases: Array<[string, Partial<Reservation>, string, RegExp]> = [
    ['an empty reservation id', { reservationId: '' }, 'missing_field', /reservation id is required/],
    ['a reservation id over 200 characters', { reservationId: 'x'.repeat(201) }, 'invalid_field', /reservation id is 201 characters/],
    ['a property id over 200 characters', { propertyId: 'p'.repeat(300) }, 'invalid_field', /property id/],
    ['a NaN version', { sourceVersion: Number.NaN }, 'invalid_field', /version/],
    ['a version of 1e300', { sourceVersion: 1e300 }, 'invalid_field', /version/],
    ['a negative version', { sourceVersion: -5 }, 'invalid_field', /version/],
    ['a stay starting in year 1', stay('0001-01-01', '0001-01-05'), 'invalid_field', /check-in date .*2000-01-01/],
    ['a stay ending in 9999', stay('2026-01-01', '9999-12-31'), 'invalid_field', /check-out date .*2099-12-31/],
    ['an impossible date', stay('2026-02-30', '2026-03-02'), 'invalid_field', /check-in date/],
    ['a check-out before the check-in', stay('2026-03-05', '2026-03-02'), 'invalid_field', /before the check-in/],
    ['a stay of 401 nights (default limit 400)', stay('2026-01-01', '2027-02-06'), 'stay_too_long', /401 nights; the limit is 400/],
  ];
  for (const [name, patch, code, message] of cases) {
    it(name, () => {
      let error: unknown;
      try {
        fit(patch);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(WebhookError);
      expect(error).toMatchObject({ statusCode: 400, code });
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/^[A-Z].*\.$/);
    });
  }

  it('admits a mid-term stay of 400 nights, and a longer one when the config allows it', () => {
    expect(fit(stay('2026-01-01', '2027-02-05')).stay.checkOutDate).toBe('2027-02-05');
    expect(fit(stay('2026-01-01', '2028-01-01'), 1000).stay.checkOutDate).toBe('2028-01-01');
  });
});

describe('nights between two local dates', () => {
  const cases: Array<[string, string, number]> = [
    ['2026-03-01', '2026-03-01', 0],
    ['2026-03-28', '2026-03-30', 2], // a DST change in Europe: dates, not instants
    ['2026-12-31', '2027-01-01', 1],
    ['2028-02-28', '2028-03-01', 2], // leap year
    ['2100-02-28', '2100-03-01', 1], // not a leap year
    ['2000-02-28', '2000-03-01', 2], // a leap year, divisible by 400
    ['2026-01-01', '2027-02-05', 400],
    ['0004-02-28', '0004-03-01', 2], // a two-digit year is that year, not 1904
    ['2026-03-05', '2026-03-02', -3],
  ];
  for (const [checkIn, checkOut, nights] of cases) {
    it(`${checkIn} to ${checkOut}: ${nights}`, () => {
      expect(nightsBetween(checkIn, checkOut)).toBe(nights);
      expect(nightsBetween(checkIn, checkOut)).toBe(Math.round((Date.parse(`${checkOut}T00:00:00Z`) - Date.parse(`${checkIn}T00:00:00Z`)) / 86_400_000));
    });
  }
});

describe('optional fields out of bounds: cut or dropped, and recorded', () => {
  const cases: Array<[string, Partial<Reservation>, (r: Reservation) => unknown, unknown, { field: string; reason: string }]> = [
    ['a 900 KB first name is cut to 200', { guest: { ...base.guest, firstName: 'A'.repeat(900_000) } }, (r) => r.guest.firstName!.length, LIMITS.nameLength, { field: 'guest.firstName', reason: 'truncated' }],
    ['an email over 254 characters', { guest: { ...base.guest, email: `${'a'.repeat(300)}@example.com` } }, (r) => r.guest.email, null, { field: 'guest.email', reason: 'too_long' }],
    ['a party size of 1e300', { partySize: 1e300 }, (r) => r.partySize, null, { field: 'partySize', reason: 'out_of_range' }],
    ['a fractional adult count', { party: { adults: 1.5, children: 0, infants: null } }, (r) => r.party.adults, null, { field: 'party.adults', reason: 'out_of_range' }],
    ['an unknown time zone', { stay: { ...base.stay, timeZone: 'Mars/Olympus' } }, (r) => r.stay.timeZone, null, { field: 'stay.timeZone', reason: 'invalid_time_zone' }],
    ['a check-in time of 25:00', { stay: { ...base.stay, checkInTime: '25:00' } }, (r) => r.stay.checkInTime, null, { field: 'stay.checkInTime', reason: 'invalid_time' }],
    ['a unit id over 200 characters', { unitId: 'u'.repeat(201) }, (r) => r.unitId, null, { field: 'unitId', reason: 'too_long' }],
    ['a PMS status over 100 characters', { sourceStatus: 's'.repeat(5000) }, (r) => r.sourceStatus.length, LIMITS.textLength, { field: 'sourceStatus', reason: 'truncated' }],
  ];
  for (const [name, patch, read, expected, dropped] of cases) {
    it(name, () => {
      const out = fit(patch);
      expect(read(out)).toEqual(expected);
      expect(out.dropped).toContainEqual(dropped);
      expect(Reservation.safeParse(out).success).toBe(true);
    });
  }

  it('replaces U+FFFF and lone surrogates everywhere, and keeps every script and emoji as sent', () => {
    const out = fit({ guest: { ...base.guest, firstName: 'Zoë\uFFFF😀', lastName: '\uD800محمد', fullName: '李小龍\u200D' }, reservationId: 'R 1 é\uFFFE' });
    expect(out.guest).toMatchObject({ firstName: 'Zoë\uFFFD😀', lastName: '\uFFFDمحمد', fullName: '李小龍\u200D' });
    expect(out.reservationId).toBe('R 1 é\uFFFD');
  });

  it('leaves a reservation inside the bounds unchanged', () => {
    expect(fit({})).toEqual(base);
  });
});
