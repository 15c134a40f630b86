import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import { hostaway } from '../../functions/sources/hostaway.ts';
import type { SourceContext } from '../../functions/sources/source.ts';
import { hostawayDelivery } from '../support/hostaway.ts';

const config = parseConfig({
  connections: {
    h: { pms: 'hostaway', secret: 's', properties: { '219407': { timeZone: 'Europe/Stockholm', country: 'SE', targets: {} } } },
  },
  targets: {},
});
const context: SourceContext = { connectionId: 'h', connection: config.connections.h!, now: Date.now() };
const parse = (body: unknown) => hostaway.parse(body, context);
const only = (body: unknown) => {
  const parsed = parse(body);
  if (parsed.kind !== 'reservations') throw new Error(`expected reservations, got ${parsed.kind}`);
  return parsed.reservations[0]!;
};

describe('Hostaway source', () => {
  it('normalises the fixture', () => {
    const reservation = only(hostawayDelivery('reservation.created', { updatedOn: '2026-05-02 09:14:27' }));
    expect(reservation).toMatchObject({
      source: 'hostaway',
      reservationId: '48291734',
      propertyId: '219407',
      status: 'confirmed',
      sourceStatus: 'new',
      stay: { checkInDate: '2026-07-10', checkOutDate: '2026-07-14', checkInTime: '15:00', checkOutTime: '11:00' },
      guest: { firstName: 'Maria', lastName: 'Lindqvist', fullName: 'Maria Lindqvist', email: 'maria.lindqvist@example.com', phone: '+46701234567', language: 'sv', country: 'SE' },
      partySize: 3,
      sourceVersion: Date.parse('2026-05-02T09:14:27Z'),
      dropped: [],
    });
  });

  it('accepts the payload.data nesting and a null last name', () => {
    const inner = hostawayDelivery('reservation.updated', { guestLastName: null, guestName: 'Cher' });
    const reservation = only({ payload: inner });
    expect(reservation.guest).toMatchObject({ lastName: null, fullName: 'Cher' });
  });

  it('maps statuses: cancellations, owner stays, inquiries and holds carry no guest stay', () => {
    const status = (s: string) => only(hostawayDelivery('reservation.updated', { status: s })).status;
    expect(status('cancelled')).toBe('cancelled');
    expect(status('ownerStay')).toBe('owner_block');
    expect(status('inquiryPreapproved')).toBe('inquiry');
    expect(status('declined')).toBe('declined');
    expect(status('awaitingPayment')).toBe('tentative');
    expect(status('modified')).toBe('confirmed');
  });

  it('reads a local phone number with the property country', () => {
    expect(only(hostawayDelivery('reservation.created', { phone: '070-123 45 67' })).guest.phone).toBe('+46701234567');
  });

  it('ignores what is not about a reservation', () => {
    expect(parse({ data: 'test' })).toEqual({ kind: 'ignored', reason: 'test_ping' });
    expect(parse({ event: 'message.received', data: {} })).toEqual({ kind: 'ignored', reason: 'not_a_reservation_event:message.received' });
  });
});
