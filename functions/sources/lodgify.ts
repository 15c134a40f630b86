import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { normaliseContact, normaliseLanguage, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { isObject, own } from '../core/own.ts';
import { emptyGuest, sumOf, type Party, type Reservation, type ReservationStatus } from '../core/reservation.ts';
import { rotatingValues } from '../core/secrets.ts';
import { optionalNumber, parsePayload } from './payload.ts';
import { receiptDeliveryId, type Delivery, type ParsedDelivery, type Source, type SourceContext, type ThinEvent } from './source.ts';

/**
 * Lodgify webhooks (`POST /webhooks/v1/subscribe`, one event per subscription).
 * - Verification: `ms-signature: sha256=<hex HMAC-SHA256 of the raw body>` with the
 *   subscription's secret, which Lodgify returns once, at subscription. Each subscription has
 *   its own secret, so a connection's secret lists all of them (a string or a list of strings).
 *   No timestamp, so no replay window; the delivery id is a hash of the body.
 * - A delivery is one event or an array of them; `action` names the event. Booking events
 *   (`booking_new_*`, `booking_change`, `booking_status_change_*`) carry the whole booking and
 *   its guest, but Lodgify sends no ordering key, so they are only hints: the sync worker
 *   re-reads the booking from the API (lodgify-api.ts). The payload's booking is checked here
 *   and kept for a booking the API no longer has. Other events are acknowledged and ignored.
 * - `date_arrival` / `date_departure` ("2026-07-10T00:00:00") are local dates at midnight.
 * - `Declined` (and `booking_status_change_declined`) cancels; `Open` is an enquiry.
 */

export const LODGIFY_BOOKING_EVENTS: ReadonlySet<string> = new Set([
  'booking_new_any_status',
  'booking_new_status_booked',
  'booking_change',
  'booking_status_change_booked',
  'booking_status_change_tentative',
  'booking_status_change_open',
  'booking_status_change_declined',
]);

const statusMap: Record<string, ReservationStatus> = {
  Booked: 'confirmed',
  Tentative: 'tentative',
  Open: 'inquiry',
  Declined: 'cancelled', // Lodgify has no Cancelled status: a cancelled booking is Declined
};

const id = z.pipe(z.union([z.int().check(z.nonnegative()), z.string().check(z.regex(/^\d+$/, 'expected a numeric id'))]), z.transform(String));
/** A local date, alone or at midnight as Lodgify writes it ("2026-07-10T00:00:00"). */
const localDate = z.pipe(
  z.pipe(
    z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/, 'expected a date YYYY-MM-DD')),
    z.transform((value) => value.slice(0, 10)),
  ),
  z.iso.date('expected a real date'),
);
const localTime = z.pipe(z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/)), z.transform((value) => value.slice(0, 5)));

/** A booking as the webhook (`date_arrival`, `room_types`) or the API v2 (`arrival`, `rooms`) writes it. */
const LodgifyBooking = z.object({ id, property_id: id, status: z.string().check(z.minLength(1)) });

/** The stay's dates under the names the booking uses; built once per pair (a schema is costly to build). */
const stayDates = new Map<string, z.ZodMiniType<Record<string, string>>>();
function stayDatesSchema(arrivalField: string, departureField: string): z.ZodMiniType<Record<string, string>> {
  const key = `${arrivalField} ${departureField}`;
  let schema = stayDates.get(key);
  if (!schema) stayDates.set(key, (schema = z.object({ [arrivalField]: localDate, [departureField]: localDate })));
  return schema;
}

/** The HMAC Lodgify sends for a body, as the header value; for the sample requests and tests. */
export function signLodgify(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

/** Every signing secret of a connection: one per subscription, each rotatable. */
function lodgifySecrets(secret: unknown): string[] {
  const values = rotatingValues(secret).flatMap((value) => (Array.isArray(value) ? value.flatMap(rotatingValues) : [value]));
  return values.map((value) => {
    if (typeof value !== 'string' || value === '') throw new Error('a Lodgify secret must be the subscriptions\' signing secrets: a string or a list of strings');
    return value;
  });
}

export const lodgify: Source = {
  verify(delivery: Delivery, secret: unknown) {
    const header = delivery.headers['ms-signature']?.trim();
    if (!header) throw new WebhookError(401, 'missing_signature', 'The ms-signature header is required.');
    const offered = Buffer.from(header.toLowerCase());
    for (const value of lodgifySecrets(secret)) {
      const expected = Buffer.from(signLodgify(value, delivery.rawBody));
      if (expected.length === offered.length && timingSafeEqual(expected, offered)) return { deliveryId: receiptDeliveryId() };
    }
    throw new WebhookError(401, 'invalid_signature', 'The ms-signature does not match the body and the subscriptions\' secrets.');
  },

  parse(body: unknown, context: SourceContext): ParsedDelivery {
    const items = Array.isArray(body) ? body : [body];
    if (items.length === 0) return { kind: 'ignored', reason: 'empty_delivery' };
    // One message per booking: a later event of the same booking in the delivery replaces an earlier one.
    const events = new Map<string, ThinEvent>();
    const ignored: string[] = [];
    items.forEach((item: unknown, index) => {
      const at = Array.isArray(body) ? `[${index}].` : '';
      if (!isObject(item)) throw new WebhookError(400, 'invalid_payload', Array.isArray(body) ? `The event ${at.slice(0, -1)} must be a JSON object.` : 'The body must be a JSON object.');
      const action = typeof item.action === 'string' ? item.action : typeof item.event === 'string' ? item.event : undefined;
      if (action === undefined) throw new WebhookError(400, 'missing_field', `The field ${at}action is required.`);
      if (!LODGIFY_BOOKING_EVENTS.has(action)) {
        ignored.push(action);
        return;
      }
      const event = bookingEvent(item, action, at, context);
      events.delete(event.reservationId);
      events.set(event.reservationId, event);
    });
    if (events.size === 0) return { kind: 'ignored', reason: `not_a_booking_event:${ignored[0] ?? ''}` };
    return { kind: 'thin', events: [...events.values()] };
  },
};

/** One booking event: its id, and the payload's booking (validated) as the fallback. */
function bookingEvent(item: Record<string, unknown>, action: string, at: string, context: SourceContext): ThinEvent & { kind: 'reservation_ref' } {
  // Some receivers report a thin `{event, data: {bookingId}}`: the id is all it takes, the API has the rest.
  if (!isObject(item.booking)) {
    const bookingId = id.safeParse(isObject(item.data) ? item.data.bookingId : undefined);
    if (!bookingId.success) throw new WebhookError(400, 'missing_field', `The field ${at}booking is required.`);
    return { kind: 'reservation_ref', reservationId: bookingId.data, hints: { event: action } };
  }
  const partial = normaliseLodgifyBooking(item.booking, item.guest, context.connectionId, context.connection, context.now, `${at}booking`);
  return {
    kind: 'reservation_ref',
    reservationId: partial.reservationId,
    propertyId: partial.propertyId,
    partial: action === 'booking_status_change_declined' ? { ...partial, status: 'cancelled', sourceStatus: 'Declined' } : partial,
    hints: { event: action },
  };
}

/**
 * A Lodgify booking (webhook or API v2) as the canonical reservation. `guest` is the webhook's
 * top-level guest, or absent when the booking embeds it (API). `version` orders it (readVersion).
 */
export function normaliseLodgifyBooking(raw: unknown, rawGuest: unknown, connectionId: string, connection: ConnectionConfig, version: number, prefix: string): Reservation {
  const b = parsePayload(LodgifyBooking, raw, prefix);
  const booking = raw as Record<string, unknown>;
  const arrivalField = 'date_arrival' in booking ? 'date_arrival' : 'arrival';
  const departureField = 'date_departure' in booking ? 'date_departure' : 'departure';
  const dates = parsePayload(stayDatesSchema(arrivalField, departureField), booking, prefix);
  const checkInDate = dates[arrivalField]!;
  const checkOutDate = dates[departureField]!;
  if (checkOutDate < checkInDate) throw new WebhookError(400, 'invalid_field', `The field ${prefix}.${departureField} is before ${prefix}.${arrivalField}.`);

  const cancelled = booking.is_deleted === true || (typeof booking.canceled_at === 'string' && booking.canceled_at !== '');
  const status: ReservationStatus = cancelled ? 'cancelled' : booking.is_unavailable === true ? 'owner_block' : (own(statusMap, b.status) ?? 'tentative');
  const dropped: Reservation['dropped'] = [];
  const rooms = Array.isArray(booking.rooms) ? booking.rooms : Array.isArray(booking.room_types) ? booking.room_types : [];
  const { party, people } = partyOf(rooms, dropped);
  const guest = isObject(rawGuest) ? rawGuest : isObject(booking.guest) ? booking.guest : {};
  const property = own(connection.properties, b.property_id);
  const contact = normaliseContact({ email: guest.email, phone: guest.phone_number ?? guest.phone, country: guest.country_code }, property?.country);
  const firstRoom: unknown = rooms[0];
  const unit = isObject(firstRoom) ? id.safeParse(firstRoom.room_type_id).data : undefined;
  return {
    source: 'lodgify',
    connectionId,
    reservationId: b.id,
    propertyId: b.property_id,
    unitId: unit ?? null,
    status,
    sourceStatus: b.status,
    stay: {
      checkInDate,
      checkOutDate,
      checkInTime: timeOf(booking.check_in),
      checkOutTime: timeOf(booking.check_out),
      timeZone: property?.timeZone ?? null,
    },
    guest: {
      ...emptyGuest,
      fullName: text(guest.name), // Lodgify gives the full name only
      email: contact.email,
      phone: contact.phone,
      language: normaliseLanguage(booking.language),
      country: contact.country,
    },
    partySize: sumOf(party) ?? people,
    party,
    sourceVersion: version,
    dropped: [...dropped, ...contact.dropped],
  };
}

/** The party over all rooms: API v2 `guest_breakdown`; the webhook's `people` (deprecated) only as a total. */
function partyOf(rooms: unknown[], dropped: Reservation['dropped']): { party: Party; people: number | null } {
  const sums: Record<keyof Party, number | null> = { adults: null, children: null, infants: null };
  let people: number | null = null;
  for (const room of rooms) {
    if (!isObject(room)) continue;
    if (isObject(room.guest_breakdown)) {
      for (const key of ['adults', 'children', 'infants'] as const) {
        const value = optionalNumber(room.guest_breakdown[key], `party.${key}`, dropped);
        if (value !== null) sums[key] = (sums[key] ?? 0) + value;
      }
    }
    const count = optionalNumber(room.people, 'partySize', dropped);
    if (count !== null) people = (people ?? 0) + count;
  }
  return { party: sums, people };
}

/** `{"time": "15:00:00", "initiator": ...}` (API v2) as HH:MM; absent in webhooks. */
function timeOf(value: unknown): string | null {
  const raw = isObject(value) ? value.time : value;
  const parsed = localTime.safeParse(raw);
  return parsed.success ? parsed.data : null;
}
