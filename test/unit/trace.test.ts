import { describe, expect, it } from 'vitest';
import { emptyGuest, type Reservation } from '../../functions/core/reservation.ts';
import { changedFields } from '../../functions/sync/trace.ts';
import { aReservation } from '../support/reservation.ts';

const base = aReservation({ guest: { ...emptyGuest, fullName: 'Ada Lovelace', email: 'ada@example.com' } });

describe('changedFields: what a trace step says changed (names only)', () => {
  const cases: [string, Partial<Reservation>, string[]][] = [
    ['nothing but the version', { sourceVersion: 2 }, []],
    ['the check-in date', { stay: { ...base.stay, checkInDate: '2026-10-24' } }, ['stay.checkInDate']],
    ['the email and the phone', { guest: { ...base.guest, email: 'new@example.com', phone: '+46701234567' } }, ['guest.email', 'guest.phone']],
    ['a cancellation', { status: 'cancelled', sourceStatus: 'cancelled' }, ['sourceStatus', 'status']],
    ['the unit and the party size', { unitId: 'u2', partySize: 3 }, ['partySize', 'unitId']],
    ['a dropped optional field', { dropped: [{ field: 'guest.phone', reason: 'unparseable' }] }, ['dropped']],
  ];
  it.each(cases)('%s', (_, patch, expected) => {
    expect(changedFields(base, { ...base, ...patch })).toEqual(expected);
  });

  it('never returns a value, only field names', () => {
    const changed = changedFields(base, { ...base, guest: { ...base.guest, fullName: 'Grace Hopper' } });
    expect(changed).toEqual(['guest.fullName']);
    expect(JSON.stringify(changed)).not.toContain('Grace');
  });
});
