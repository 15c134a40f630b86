import { describe, expect, it } from 'vitest';
import type { Reservation } from '../../functions/core/reservation.ts';
import { aReservation } from '../support/reservation.ts';
import { retentionTtl } from '../../functions/sync/sync.ts';

const DAY = 86_400;

function stay(checkInDate: string, checkOutDate: string): Reservation {
  return aReservation({ stay: { checkInDate, checkOutDate, checkInTime: null, checkOutTime: null, timeZone: 'Europe/Stockholm' } });
}

describe('retention ttl of stored guest data', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');

  it('is checkout (property zone, default checkout time) plus the retention for a stay to come', () => {
    // 2027-01-05 11:00 in Stockholm (CET) is 10:00Z.
    expect(retentionTtl(stay('2027-01-01', '2027-01-05'), undefined, 30, now)).toBe(Date.parse('2027-01-05T10:00:00Z') / 1000 + 30 * DAY);
  });

  it('counts from now for a stay that has already ended, so a late event is not expired at once', () => {
    const ttl = retentionTtl(stay('2026-07-10', '2026-07-14'), undefined, 30, now);
    expect(ttl).toBe(now / 1000 + 30 * DAY);
    expect(ttl).toBeGreaterThan(Date.parse('2026-07-14T09:00:00Z') / 1000 + 30 * DAY);
  });
});
