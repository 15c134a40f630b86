import { emptyGuest, unknownParty, type Reservation } from '../../functions/core/reservation.ts';

/** A canonical reservation inside every bound (generic source, property "p"), with the fields a test changes. */
export function aReservation(patch: Partial<Reservation> = {}): Reservation {
  return {
    source: 'generic',
    connectionId: 'c',
    reservationId: 'R-1',
    propertyId: 'p',
    unitId: null,
    status: 'confirmed',
    sourceStatus: 'confirmed',
    stay: { checkInDate: '2026-10-23', checkOutDate: '2026-10-27', checkInTime: null, checkOutTime: null, timeZone: null },
    guest: emptyGuest,
    partySize: null,
    party: unknownParty,
    sourceVersion: 1,
    dropped: [],
    ...patch,
  };
}
