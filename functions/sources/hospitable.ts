import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { normaliseContact, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { isObject, own } from '../core/own.ts';
import { emptyGuest, sumOf, type Party, type Reservation, type ReservationStatus } from '../core/reservation.ts';
import { rotatingValues } from '../core/secrets.ts';
import { instantToLocal } from '../core/time.ts';
import { optionalNumber, parsePayload } from './payload.ts';
import type { Delivery, ParsedDelivery, Source, SourceContext } from './source.ts';

/**
 * Hospitable Public API v2 webhooks (developer.hospitable.com/docs/webhooks and the OpenAPI
 * `webhooks.json`).
 * - Verification: `Signature` = hex HMAC-SHA256 of the raw body with the webhook secret. No
 *   timestamp. Deliveries come from 38.80.170.0/24: set it as the connection's
 *   `allowedSourceIps`.
 * - `reservation.created` and `reservation.changed` (some SDKs say `reservation.updated`:
 *   accepted too) carry the full reservation in `data`. There is no cancel event: a
 *   cancellation is `reservation_status.current.category: "cancelled"`. Other events
 *   (`property.*`, `message.created`...) are acknowledged and ignored.
 * - No `updated_at`: the envelope's `created` orders events, refined to the millisecond by
 *   its ULID `id` when that is one (the ULID's time is the event's).
 * - A `changed` event whose `data` is partial (reported by one integrator, not in the OpenAPI)
 *   becomes a thin event: the sync worker reads the reservation from the API by its id
 *   (hospitable-api.ts). One with no reservation id anywhere is a 400.
 * - `arrival_date` / `departure_date` are midnight with the property's offset ("only the
 *   date"); `check_in` / `check_out` are instants with that offset.
 */

const RESERVATION_EVENTS: ReadonlySet<string> = new Set(['reservation.created', 'reservation.changed', 'reservation.updated']);

const instant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date and time with an offset' });

const HospitableReservation = z.object({
  id: z.string().check(z.minLength(1)),
  arrival_date: instant,
  departure_date: instant,
  properties: z
    .array(z.object({ id: z.string().check(z.minLength(1)) }), 'expected the reservation\'s properties (the webhook needs the property:read scope)')
    .check(z.minLength(1)),
});

/** The fields without which a `data` is partial and the API is asked instead. */
const REQUIRED_FIELDS = ['arrival_date', 'departure_date', 'properties'] as const;

const categoryMap: Record<string, ReservationStatus> = {
  accepted: 'confirmed',
  request: 'tentative',
  cancelled: 'cancelled',
  'not accepted': 'declined',
  unknown: 'tentative',
};

/** The Signature header Hospitable sends for a body; for the sample requests and tests. */
export function signHospitable(secret: string, rawBody: string): string {
  return createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex');
}

export const hospitable: Source = {
  verify(delivery: Delivery, secret: unknown) {
    const header = delivery.headers['signature']?.trim();
    if (!header) throw new WebhookError(401, 'missing_signature', 'The Signature header is required.');
    const offered = Buffer.from(header.toLowerCase());
    for (const value of rotatingValues(secret)) {
      if (typeof value !== 'string' || value === '') throw new Error('a Hospitable secret must be the webhook secret as a string');
      const expected = Buffer.from(signHospitable(value, delivery.rawBody));
      if (expected.length === offered.length && timingSafeEqual(expected, offered)) return {};
    }
    throw new WebhookError(401, 'invalid_signature', 'The Signature does not match the body and the webhook secret.');
  },

  parse(body: unknown, context: SourceContext): ParsedDelivery {
    if (!isObject(body)) throw new WebhookError(400, 'invalid_payload', 'The body must be a JSON object.');
    if (typeof body.action !== 'string' || body.action === '') throw new WebhookError(400, 'missing_field', 'The field action is required.');
    const action = body.action;
    if (!RESERVATION_EVENTS.has(action)) return { kind: 'ignored', reason: `not_a_reservation_event:${action}` };
    const version = eventVersion(body);
    const data = isObject(body.data) ? body.data : {};
    const reservationId = [data.id, data.reservation_id, body.reservation_id].find((value): value is string => typeof value === 'string' && value !== '');
    if (reservationId === undefined) throw new WebhookError(400, 'missing_field', 'The field data.id is required: the event names no reservation.');

    if (REQUIRED_FIELDS.some((field) => data[field] === undefined)) {
      // Partial data: the API has the reservation; the event's time still orders it.
      return { kind: 'thin', events: [{ kind: 'reservation_ref', reservationId, hints: { event: action, version } }] };
    }
    const reservation = normaliseHospitableReservation({ ...data, id: reservationId }, context.connectionId, context.connection, version, 'data');
    return { kind: 'reservations', reservations: [reservation] };
  },
};

/** Epoch ms of the event: `created`, to the millisecond from the ULID `id` when it agrees. */
function eventVersion(body: Record<string, unknown>): number {
  const created = instant.safeParse(body.created);
  if (!created.success) throw new WebhookError(400, body.created === undefined ? 'missing_field' : 'invalid_field', 'The field created is required to order events and must be an ISO 8601 time.');
  const createdMs = Date.parse(created.data);
  const ulidMs = typeof body.id === 'string' ? ulidTime(body.id) : undefined;
  return ulidMs !== undefined && Math.floor(ulidMs / 1000) === Math.floor(createdMs / 1000) ? ulidMs : createdMs;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The millisecond time in a ULID's first 10 characters; undefined when it is not a ULID. */
export function ulidTime(value: string): number | undefined {
  if (!/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i.test(value)) return undefined;
  let ms = 0;
  for (const char of value.slice(0, 10).toUpperCase()) ms = ms * 32 + CROCKFORD.indexOf(char);
  return ms;
}

/** A Hospitable `ReservationFull` (webhook `data` or `GET /reservations/{id}`) as the canonical reservation. */
export function normaliseHospitableReservation(raw: unknown, connectionId: string, connection: ConnectionConfig, version: number, prefix: string): Reservation {
  const r = parsePayload(HospitableReservation, raw, prefix);
  const data = raw as Record<string, unknown>;
  const checkInDate = r.arrival_date.slice(0, 10); // midnight at the property: only the date counts
  const checkOutDate = r.departure_date.slice(0, 10);
  if (checkOutDate < checkInDate) throw new WebhookError(400, 'invalid_field', `The field ${prefix}.departure_date is before ${prefix}.arrival_date.`);
  const propertyId = r.properties[0]!.id;
  const property = own(connection.properties, propertyId);
  const zone = property?.timeZone ?? null;
  const dropped: Reservation['dropped'] = [];
  const guests = isObject(data.guests) ? data.guests : {};
  const party: Party = {
    adults: optionalNumber(guests.adult_count, 'party.adults', dropped),
    children: optionalNumber(guests.child_count, 'party.children', dropped),
    infants: optionalNumber(guests.infant_count, 'party.infants', dropped),
  };
  const total = optionalNumber(guests.total, 'partySize', dropped);
  const guest = isObject(data.guest) ? data.guest : {};
  const phones = Array.isArray(guest.phone_numbers) ? guest.phone_numbers : [];
  const contact = normaliseContact({ email: guest.email, phone: phones[0], country: null }, property?.country);
  const { status, sourceStatus } = statusOf(data);
  return {
    source: 'hospitable',
    connectionId,
    reservationId: r.id,
    propertyId,
    unitId: null,
    status,
    sourceStatus,
    stay: {
      checkInDate,
      checkOutDate,
      checkInTime: localTimeOf(data.check_in, zone),
      checkOutTime: localTimeOf(data.check_out, zone),
      timeZone: zone,
    },
    guest: {
      ...emptyGuest,
      firstName: text(guest.first_name),
      lastName: text(guest.last_name),
      email: contact.email,
      phone: contact.phone,
      country: contact.country,
    },
    partySize: total ?? sumOf(party),
    party,
    sourceVersion: version,
    dropped: [...dropped, ...contact.dropped],
  };
}

/** `reservation_status.current` (category, sub-category); the deprecated `status` string when it is absent. */
function statusOf(data: Record<string, unknown>): { status: ReservationStatus; sourceStatus: string } {
  const current = isObject(data.reservation_status) && isObject(data.reservation_status.current) ? data.reservation_status.current : undefined;
  const category = typeof current?.category === 'string' ? current.category : undefined;
  const sub = typeof current?.sub_category === 'string' ? current.sub_category : undefined;
  if (category !== undefined) {
    const mapped = own(categoryMap, category) ?? 'tentative';
    // A request that lapsed or was withdrawn never became a stay.
    const status = category === 'not accepted' && sub === 'expired' ? 'expired' : sub === 'withdrawn' ? 'cancelled' : mapped;
    return { status, sourceStatus: sub ? `${category}/${sub}` : category };
  }
  const legacy = typeof data.status === 'string' ? data.status : 'unknown';
  const status: ReservationStatus = legacy === 'accepted' || legacy === 'booking' ? 'confirmed' : legacy === 'cancelled' ? 'cancelled' : 'tentative';
  return { status, sourceStatus: legacy };
}

/** The local HH:MM of an instant with offset: in the property's zone when configured, else as written. */
function localTimeOf(value: unknown, zone: string | null): string | null {
  const parsed = instant.safeParse(value);
  if (!parsed.success) return null;
  return zone ? instantToLocal(parsed.data, zone).time : parsed.data.slice(11, 16);
}
