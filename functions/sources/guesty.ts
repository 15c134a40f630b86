import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { normaliseContact, normaliseLanguage, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { isObject, own } from '../core/own.ts';
import { emptyGuest, unknownParty, type Guest, type Reservation, type ReservationStatus } from '../core/reservation.ts';
import { rotatingValues } from '../core/secrets.ts';
import { instantToLocal, isTimeZone } from '../core/time.ts';
import { optionalNumber, parsePayload } from './payload.ts';
import type { Delivery, ParsedDelivery, Source, SourceContext, ThinEvent } from './source.ts';
import { verifyStandardWebhook } from './standard-webhooks.ts';

/**
 * Guesty webhooks, delivered through Svix (Standard Webhooks): `svix-*` headers, or
 * `webhook-*` on white-labelled accounts; the `whsec_` secret comes from
 * `GET /v1/webhooks-v2/secret`. The Svix message id is the delivery id.
 *
 * - Legacy `reservation.new` / `reservation.updated` carry the whole reservation but only a
 *   `guestId`: ingest normalises the reservation and the sync worker reads the guest.
 * - v2 `reservation.created.v2` / `reservation.updated.v2` (the main path: Guesty retires the
 *   legacy events by the end of 2026) are lean and their exact JSON is not published, so the
 *   reservation id is looked for in every place integrators have reported; the worker reads
 *   the reservation and its guest from the Open API (guesty-api.ts).
 * - Anything else (guest.*, listing.*, pings) is acknowledged and ignored.
 * There is no cancel event: a cancellation is a status (`canceled`, `declined`, `closed`).
 */

const LEGACY_EVENTS = new Set(['reservation.new', 'reservation.updated']);
const LEAN_EVENTS = new Set(['reservation.created.v2', 'reservation.updated.v2', 'reservation_update_shortlist']);

const statusMap: Record<string, ReservationStatus> = {
  confirmed: 'confirmed',
  checked_in: 'checked_in',
  checked_out: 'checked_out',
  canceled: 'cancelled',
  cancelled: 'cancelled',
  declined: 'cancelled',
  closed: 'cancelled',
  inquiry: 'inquiry',
  reserved: 'tentative', // a hold
  expired: 'expired',
};

const instant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date-time' });
const localDate = z.iso.date('expected a date YYYY-MM-DD');
const id = z.pipe(z.union([z.string().check(z.minLength(1)), z.int().check(z.nonnegative())]), z.transform(String));

/** A Guesty reservation as the legacy webhook and the Open API send it; only what sync needs is required. */
export const GuestyReservation = z.object({
  _id: id,
  listingId: id,
  status: z.string().check(z.minLength(1)),
  // Optional: read leniently in normaliseGuestyReservation (a bad one is dropped and recorded).
  checkIn: z.optional(z.unknown()),
  checkOut: z.optional(z.unknown()),
  checkInDateLocalized: z.nullish(localDate),
  checkOutDateLocalized: z.nullish(localDate),
  lastUpdatedAt: z.nullish(instant),
  createdAt: z.nullish(instant),
  guestId: z.optional(z.unknown()),
  guestsCount: z.optional(z.unknown()),
});

export const guesty: Source = {
  verify(delivery: Delivery, secret: unknown, context: SourceContext) {
    const { headers } = delivery;
    // The Svix library reads `svix-*` first and falls back to `webhook-*`; so do we.
    const svix = headers['svix-id'] !== undefined || headers['svix-signature'] !== undefined || headers['svix-timestamp'] !== undefined;
    const prefix = svix ? 'svix' : 'webhook';
    return verifyStandardWebhook(
      delivery.rawBody,
      { id: headers[`${prefix}-id`], timestamp: headers[`${prefix}-timestamp`], signature: headers[`${prefix}-signature`] },
      rotatingValues(secret),
      context.now,
      'svix-id, svix-timestamp and svix-signature (or webhook-*)',
    );
  },

  parse(body: unknown, context: SourceContext): ParsedDelivery {
    if (!isObject(body)) throw new WebhookError(400, 'invalid_payload', 'The body must be a JSON object.');
    const event = [body.event, body.eventType, body.type].find((e): e is string => typeof e === 'string' && e !== '');
    if (event === undefined) throw new WebhookError(400, 'missing_field', 'The field event is required.');

    if (LEGACY_EVENTS.has(event)) {
      if (!isObject(body.reservation)) throw new WebhookError(400, 'missing_field', 'The field reservation is required and must hold the reservation.');
      const reservation = normaliseGuestyReservation(body.reservation, context.connectionId, context.connection, null, 'reservation');
      const guestId = id.safeParse(body.reservation.guestId).data ?? null;
      const guest = isObject(body.reservation.guest) ? guestFromGuesty(body.reservation.guest, reservation.propertyId, context.connection) : undefined;
      if (guest) {
        return { kind: 'reservations', reservations: [{ ...reservation, guest: guest.guest, dropped: [...reservation.dropped, ...guest.dropped] }] };
      }
      const thin: ThinEvent = {
        kind: 'reservation_ref',
        reservationId: reservation.reservationId,
        propertyId: reservation.propertyId,
        partial: reservation,
        hints: { event, guestId },
      };
      return { kind: 'thin', events: [thin] };
    }

    if (LEAN_EVENTS.has(event)) {
      const reservationId = firstId(body, RESERVATION_ID_PATHS);
      if (reservationId === undefined) {
        throw new WebhookError(400, 'missing_field', 'The reservation id is required (reservationId, reservation._id or data.reservation._id).');
      }
      const propertyId = firstId(body, LISTING_ID_PATHS);
      const publishedAt = [body.publishedAt, isObject(body.data) ? body.data.publishedAt : undefined].find((v): v is string => typeof v === 'string');
      const subtype = [body.subType, body.subtype, isObject(body.data) ? body.data.subType : undefined].find((v): v is string => typeof v === 'string');
      const thin: ThinEvent = {
        kind: 'reservation_ref',
        reservationId,
        ...(propertyId !== undefined ? { propertyId } : {}),
        hints: { event, ...(publishedAt ? { publishedAt } : {}), ...(subtype ? { subType: subtype } : {}) },
      };
      return { kind: 'thin', events: [thin] };
    }

    return { kind: 'ignored', reason: `not_a_reservation_event:${event}` };
  },
};

// Where integrators have seen the reservation id in lean (v2) payloads; the first string or number wins.
const RESERVATION_ID_PATHS = [
  ['reservationId'],
  ['reservation', '_id'],
  ['reservation', 'id'],
  ['data', 'reservationId'],
  ['data', 'reservation', '_id'],
  ['data', 'reservation', 'id'],
  ['data', '_id'],
  ['data', 'id'],
  ['payload', 'reservationId'],
  ['payload', 'reservation', '_id'],
];
const LISTING_ID_PATHS = [
  ['listingId'],
  ['reservation', 'listingId'],
  ['data', 'listingId'],
  ['data', 'reservation', 'listingId'],
  ['payload', 'reservation', 'listingId'],
];

function firstId(body: Record<string, unknown>, paths: string[][]): string | undefined {
  for (const path of paths) {
    let current: unknown = body;
    for (const key of path) current = isObject(current) ? current[key] : undefined;
    if (typeof current === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(current)) return current;
    if (typeof current === 'number' && Number.isInteger(current) && current >= 0) return String(current);
  }
  return undefined;
}

/**
 * A Guesty reservation (legacy webhook or Open API) as the canonical one. The stay's dates are
 * the listing-local `checkInDateLocalized`/`checkOutDateLocalized`; its times come from the
 * `checkIn`/`checkOut` instants placed in the property's time zone. Throws a 400 WebhookError
 * naming the bad field (the API reader turns it into a fetch error).
 */
export function normaliseGuestyReservation(
  raw: unknown,
  connectionId: string,
  connection: ConnectionConfig,
  guest: { guest: Guest; dropped: Reservation['dropped'] } | null,
  prefix: string,
): Reservation {
  const r = parsePayload(GuestyReservation, raw, prefix);
  const property = own(connection.properties, r.listingId);
  const listing = isObject(raw) && isObject(raw.listing) ? raw.listing : undefined;
  const listingZone = typeof listing?.timezone === 'string' && isTimeZone(listing.timezone) ? listing.timezone : null;
  const zone = property?.timeZone ?? listingZone;
  const dropped: Reservation['dropped'] = [];
  const instantOf = (raw: unknown, field: string): string | null => {
    if (raw === undefined || raw === null) return null;
    if (instant.safeParse(raw).success) return raw as string;
    dropped.push({ field, reason: 'invalid_instant' });
    return null;
  };
  const checkIn = dayAndTime(r.checkInDateLocalized, instantOf(r.checkIn, 'stay.checkInTime'), zone, `${prefix}.checkInDateLocalized`);
  const checkOut = dayAndTime(r.checkOutDateLocalized, instantOf(r.checkOut, 'stay.checkOutTime'), zone, `${prefix}.checkOutDateLocalized`);
  if (checkOut.date < checkIn.date) throw new WebhookError(400, 'invalid_field', `The field ${prefix}.checkOutDateLocalized is before the check-in date.`);
  const updatedAt = r.lastUpdatedAt ?? r.createdAt;
  if (!updatedAt) throw new WebhookError(400, 'missing_field', `The field ${prefix}.lastUpdatedAt is required to order updates.`);
  return {
    source: 'guesty',
    connectionId,
    reservationId: r._id,
    propertyId: r.listingId,
    unitId: null,
    status: own(statusMap, r.status) ?? 'tentative',
    sourceStatus: r.status,
    stay: { checkInDate: checkIn.date, checkOutDate: checkOut.date, checkInTime: checkIn.time, checkOutTime: checkOut.time, timeZone: listingZone },
    guest: guest?.guest ?? emptyGuest,
    partySize: optionalNumber(r.guestsCount, 'partySize', dropped),
    party: unknownParty,
    sourceVersion: Date.parse(updatedAt),
    dropped: [...dropped, ...(guest?.dropped ?? [])],
  };
}

/** A Guesty guest (`GET /v1/guests/{id}`, or `reservation.guest`); undefined when it holds nothing usable. */
export function guestFromGuesty(raw: Record<string, unknown>, propertyId: string, connection: ConnectionConfig): { guest: Guest; dropped: Reservation['dropped'] } | undefined {
  const email = raw.email ?? firstOf(raw.emails);
  const phone = raw.phone ?? firstOf(raw.phones);
  const contact = normaliseContact({ email, phone, country: raw.country ?? (isObject(raw.address) ? raw.address.country : undefined) }, own(connection.properties, propertyId)?.country);
  const guest: Guest = {
    ...emptyGuest,
    firstName: text(raw.firstName),
    lastName: text(raw.lastName),
    fullName: text(raw.fullName),
    email: contact.email,
    phone: contact.phone,
    language: normaliseLanguage(raw.preferredLanguage),
    country: contact.country,
  };
  const empty = !guest.firstName && !guest.lastName && !guest.fullName && !guest.email && !guest.phone && contact.dropped.length === 0;
  return empty ? undefined : { guest, dropped: contact.dropped };
}

function dayAndTime(localized: string | null | undefined, at: string | null | undefined, zone: string | null, field: string): { date: string; time: string | null } {
  const local = at && zone ? instantToLocal(at, zone) : undefined;
  // Without a listing-local date or a zone, the instant's UTC date (never a slice of its text).
  const date = localized ?? local?.date ?? (at ? instantToLocal(at, 'UTC').date : undefined);
  if (!date) throw new WebhookError(400, 'missing_field', `The field ${field} is required.`);
  return { date, time: local?.time ?? null };
}

function firstOf(value: unknown): unknown {
  if (!Array.isArray(value)) return undefined;
  const first: unknown = value[0];
  if (isObject(first)) return first.email ?? first.number ?? first.phone ?? first.value;
  return first;
}
