import * as z from '../core/zod.ts';
import { normaliseContact, normaliseLanguage, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { isObject, own } from '../core/own.ts';
import { emptyGuest, sumOf, type Party, type Reservation, type ReservationStatus } from '../core/reservation.ts';
import { hourToLocalTime } from '../core/time.ts';
import { verifyHttpBasic } from './http-basic.ts';
import { parsePayload } from './payload.ts';
import { propertyOf, type Delivery, type ParsedDelivery, type Source, type SourceContext } from './source.ts';

/**
 * Hostaway unified webhooks: one URL receives every event; reservations arrive whole as
 * `reservation.created` / `reservation.updated` (a cancellation is an update with
 * `status: cancelled`). Delivery auth is HTTP Basic, which Hostaway makes optional and
 * guest-sync requires.
 *
 * `updatedOn` ("YYYY-MM-DD HH:MM:SS", no zone, one-second resolution) is read as UTC: it is
 * only compared with other `updatedOn` values of the same reservation, so the zone does
 * not matter as long as it is read the same way every time.
 */


const date = z.iso.date('expected a date YYYY-MM-DD');
const hostawayTimestamp = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'expected "YYYY-MM-DD HH:MM:SS"'));
const id = z.union([z.int().check(z.nonnegative()), z.string().check(z.regex(/^\d+$/, 'expected a numeric id'))]);

// Only what a reservation cannot do without is required; everything else is read leniently.
const HostawayReservation = z.object({
  id,
  listingMapId: id,
  status: z.string().check(z.minLength(1)),
  arrivalDate: date,
  departureDate: date,
  updatedOn: z.optional(hostawayTimestamp),
  insertedOn: z.optional(hostawayTimestamp),
});

const statusMap: Record<string, ReservationStatus> = {
  new: 'confirmed',
  modified: 'confirmed',
  cancelled: 'cancelled',
  ownerStay: 'owner_block',
  pending: 'tentative',
  awaitingPayment: 'tentative',
  awaitingGuestVerification: 'tentative',
  unconfirmed: 'tentative',
  declined: 'declined',
  expired: 'expired',
  inquiry: 'inquiry',
  inquiryPreapproved: 'inquiry',
  inquiryDenied: 'inquiry',
  inquiryTimedout: 'inquiry',
  inquiryNotPossible: 'inquiry',
};

export const hostaway: Source = {
  verify(delivery: Delivery, secret: unknown) {
    return verifyHttpBasic(delivery, secret);
  },

  parse(body: unknown, context: SourceContext): ParsedDelivery {
    if (!isObject(body)) throw new WebhookError(400, 'invalid_payload', 'The body must be a JSON object.');
    // Some deliveries nest the envelope under `payload`.
    const envelope = isObject(body.payload) && !('data' in body) ? body.payload : body;
    const event = typeof envelope.event === 'string' ? envelope.event : undefined;
    const data = envelope.data;
    if (data === 'test' || (event === undefined && !isObject(data))) return { kind: 'ignored', reason: 'test_ping' };
    if (event !== undefined && !event.startsWith('reservation.')) return { kind: 'ignored', reason: `not_a_reservation_event:${event}` };
    if (typeof envelope.object === 'string' && envelope.object !== 'reservation') return { kind: 'ignored', reason: `not_a_reservation_object:${envelope.object}` };
    if (!isObject(data)) throw new WebhookError(400, 'missing_field', 'The field data is required and must hold the reservation.');

    const required = parsePayload(HostawayReservation, data, 'data');
    if (required.departureDate < required.arrivalDate) {
      throw new WebhookError(400, 'invalid_field', 'The field data.departureDate is before data.arrivalDate.');
    }
    const updatedOn = required.updatedOn ?? required.insertedOn;
    if (!updatedOn) throw new WebhookError(400, 'missing_field', 'The field data.updatedOn is required to order updates.');

    // The pattern admits "2026-99-99 99:99:99"; only a real time can order updates.
    const sourceVersion = Date.parse(`${updatedOn.replace(' ', 'T')}Z`);
    if (!Number.isSafeInteger(sourceVersion) || sourceVersion < 0) {
      const field = required.updatedOn ? 'updatedOn' : 'insertedOn';
      throw new WebhookError(400, 'invalid_field', `The field data.${field} is not a real date and time.`);
    }
    const party: Party = { adults: count(data.adults), children: count(data.children), infants: count(data.infants) };
    const propertyId = String(required.listingMapId);
    const contact = normaliseContact({ email: data.guestEmail, phone: data.phone, country: data.guestCountry }, propertyOf(context, propertyId)?.country);

    const reservation: Reservation = {
      source: 'hostaway',
      connectionId: context.connectionId,
      reservationId: String(required.id),
      propertyId,
      unitId: unitOf(data),
      status: own(statusMap, required.status) ?? 'tentative',
      sourceStatus: required.status,
      stay: {
        checkInDate: required.arrivalDate,
        checkOutDate: required.departureDate,
        checkInTime: hour(data.checkInTime),
        checkOutTime: hour(data.checkOutTime),
        timeZone: null,
      },
      guest: {
        ...emptyGuest,
        firstName: text(data.guestFirstName),
        lastName: text(data.guestLastName),
        fullName: text(data.guestName),
        email: contact.email,
        phone: contact.phone,
        language: normaliseLanguage(data.guestLocale),
        country: contact.country,
      },
      partySize: count(data.numberOfGuests) ?? sumOf(party),
      party,
      sourceVersion,
      dropped: contact.dropped,
    };
    return { kind: 'reservations', reservations: [reservation] };
  },
};

function hour(value: unknown): string | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 23 ? hourToLocalTime(value) : null;
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

function unitOf(data: Record<string, unknown>): string | null {
  const units = Array.isArray(data.reservationUnit) ? data.reservationUnit : [];
  const first: unknown = units[0];
  if (isObject(first) && (typeof first.listingUnitId === 'number' || typeof first.listingUnitId === 'string')) {
    return String(first.listingUnitId);
  }
  return null;
}
