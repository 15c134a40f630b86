import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { normaliseContact, normaliseLanguage, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { isObject, own } from '../core/own.ts';
import { emptyGuest, sumOf, type Guest, type Party, type Reservation, type ReservationStatus } from '../core/reservation.ts';
import { rotatingValues } from '../core/secrets.ts';
import { instantToLocal } from '../core/time.ts';
import { optionalNumber, parsePayload } from './payload.ts';
import type { Delivery, ParsedDelivery, Source, SourceContext } from './source.ts';

/**
 * Smily (formerly BookingSync) webhooks, configured per partner application.
 * - Verification: `X-Content-Signature` = hex HMAC-SHA1 with the application secret over the
 *   Base64 of the raw body as Ruby's `Base64.encode64` writes it (a newline after every 60
 *   characters and at the end). No timestamp, so no replay window; the delivery id is a hash
 *   of the body.
 * - `booking_created` / `booking_updated` / `booking_destroyed`: the booking has no guest data
 *   (only `links.client`), and Smily does not guarantee delivery order, so the sync worker
 *   re-reads the booking and its client from the API (smily-api.ts); the webhook's booking is
 *   checked here and kept as a fallback. `booking_destroyed` cancels.
 * - `client_updated`: resync that client's upcoming bookings (a `client_ref` message).
 * - Everything else (`client_created`, rentals, payments, inbox...) is acknowledged and ignored.
 */

const BOOKING_EVENTS = new Set(['booking_created', 'booking_updated', 'booking_destroyed']);

const statusMap: Record<string, ReservationStatus> = {
  Booked: 'confirmed',
  Canceled: 'cancelled',
  Unavailable: 'owner_block', // an owner block or maintenance, no guest
  Tentative: 'tentative', // a hold that expires
  Locked: 'tentative',
};

const instant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 UTC time' });
const id = z.pipe(z.union([z.int().check(z.nonnegative()), z.string().check(z.regex(/^\d+$/, 'expected a numeric id'))]), z.transform(String));

export const SmilyBooking = z.object({
  id,
  status: z.string().check(z.minLength(1)),
  start_at: instant,
  end_at: instant,
  updated_at: instant,
  canceled_at: z.nullish(instant),
  // Optional: read leniently below (a bad count is dropped and recorded).
  adults: z.optional(z.unknown()),
  children: z.optional(z.unknown()),
  links: z.object({ rental: id, client: z.nullish(id) }),
});

/** Ruby's `Base64.encode64`: standard Base64 with a newline after every 60 characters and at the end. */
export function rubyBase64(bytes: Buffer): string {
  const encoded = bytes.toString('base64');
  let lines = '';
  for (let i = 0; i < encoded.length; i += 60) lines += `${encoded.slice(i, i + 60)}\n`;
  return lines;
}

/** The X-Content-Signature Smily sends for a body; for the sample requests and tests. */
export function signSmily(secret: string, rawBody: string): string {
  return createHmac('sha1', secret).update(rubyBase64(Buffer.from(rawBody, 'utf8'))).digest('hex');
}

export const smily: Source = {
  verify(delivery: Delivery, secret: unknown) {
    const header = delivery.headers['x-content-signature']?.trim();
    if (!header) throw new WebhookError(401, 'missing_signature', 'The X-Content-Signature header is required.');
    const offered = Buffer.from(header.toLowerCase());
    for (const value of rotatingValues(secret)) {
      if (typeof value !== 'string' || value === '') throw new Error('a Smily secret must be the application secret as a string');
      const expected = Buffer.from(signSmily(value, delivery.rawBody));
      if (expected.length === offered.length && timingSafeEqual(expected, offered)) return {};
    }
    throw new WebhookError(401, 'invalid_signature', 'The X-Content-Signature does not match the body and the application secret.');
  },

  parse(body: unknown, context: SourceContext): ParsedDelivery {
    if (!isObject(body)) throw new WebhookError(400, 'invalid_payload', 'The body must be a JSON object.');
    if (typeof body.event !== 'string' || body.event === '') throw new WebhookError(400, 'missing_field', 'The field event is required.');
    const event = body.event;
    const isBooking = BOOKING_EVENTS.has(event);
    if (!isBooking && event !== 'client_updated') return { kind: 'ignored', reason: `not_a_reservation_event:${event}` };
    if (!isObject(body.resource)) throw new WebhookError(400, 'missing_field', 'The field resource is required.');

    if (!isBooking) {
      const client = pick(body.resource, 'client', 'clients');
      const clientId = id.safeParse(client?.id);
      if (!clientId.success) throw new WebhookError(400, client?.id === undefined ? 'missing_field' : 'invalid_field', 'The field resource.client.id is required and must be a numeric id.');
      return { kind: 'thin', events: [{ kind: 'client_ref', clientId: clientId.data, hints: { event } }] };
    }

    const booking = pick(body.resource, 'booking', 'bookings');
    if (!booking) throw new WebhookError(400, 'missing_field', 'The field resource.booking is required.');
    const bookingId = id.safeParse(booking.id);
    if (!bookingId.success) throw new WebhookError(400, booking.id === undefined ? 'missing_field' : 'invalid_field', 'The field resource.booking.id is required and must be a numeric id.');
    // A destroyed booking may come as a bare id; anything more must be a valid booking.
    const bare = event === 'booking_destroyed' && booking.start_at === undefined && booking.status === undefined;
    const partial = bare ? undefined : normaliseSmilyBooking(booking, context.connectionId, context.connection, null, 'resource.booking');
    const clientId = isObject(booking.links) ? id.safeParse(booking.links.client).data : undefined;
    return {
      kind: 'thin',
      events: [
        {
          kind: 'reservation_ref',
          reservationId: bookingId.data,
          ...(partial ? { propertyId: partial.propertyId, partial: event === 'booking_destroyed' ? cancelled(partial) : partial } : {}),
          hints: { event, clientId: clientId ?? null },
        },
      ],
    };
  },
};

/** The same reservation, cancelled (a destroyed booking). */
export function cancelled(reservation: Reservation): Reservation {
  return { ...reservation, status: 'cancelled', sourceStatus: 'destroyed' };
}

/**
 * A Smily booking (webhook or API) as the canonical reservation. `start_at`/`end_at` are UTC
 * instants that include the check-in/out hour: they become local dates and times in the
 * rental's time zone (the property config), so a target converting them back gets the very
 * same instants.
 */
export function normaliseSmilyBooking(
  raw: unknown,
  connectionId: string,
  connection: ConnectionConfig,
  guest: { guest: Guest; dropped: Reservation['dropped'] } | null,
  prefix: string,
): Reservation {
  const b = parsePayload(SmilyBooking, raw, prefix);
  if (Date.parse(b.end_at) < Date.parse(b.start_at)) throw new WebhookError(400, 'invalid_field', `The field ${prefix}.end_at is before ${prefix}.start_at.`);
  const property = own(connection.properties, b.links.rental);
  const zone = property?.timeZone ?? 'UTC';
  const start = instantToLocal(b.start_at, zone);
  const end = instantToLocal(b.end_at, zone);
  const status = b.canceled_at ? 'cancelled' : (own(statusMap, b.status) ?? 'tentative');
  const dropped: Reservation['dropped'] = [];
  const party: Party = { adults: optionalNumber(b.adults, 'party.adults', dropped), children: optionalNumber(b.children, 'party.children', dropped), infants: null };
  return {
    source: 'smily',
    connectionId,
    reservationId: b.id,
    propertyId: b.links.rental,
    unitId: null,
    status,
    sourceStatus: b.status,
    stay: { checkInDate: start.date, checkOutDate: end.date, checkInTime: start.time, checkOutTime: end.time, timeZone: zone },
    guest: guest?.guest ?? emptyGuest,
    partySize: sumOf(party),
    party,
    sourceVersion: Date.parse(b.updated_at),
    dropped: [...dropped, ...(guest?.dropped ?? [])],
  };
}

/** A Smily client (`GET /api/v3/clients/{id}`) as the guest. */
export function guestFromSmilyClient(raw: Record<string, unknown>, propertyId: string, connection: ConnectionConfig): { guest: Guest; dropped: Reservation['dropped'] } {
  const email = firstField(raw.emails, 'email');
  const phone = firstField(raw.phones, 'number');
  const addressCountry = firstField(raw.addresses, 'country_code');
  const contact = normaliseContact({ email, phone, country: addressCountry }, own(connection.properties, propertyId)?.country);
  return {
    guest: {
      ...emptyGuest,
      firstName: text(raw.firstname),
      lastName: text(raw.lastname),
      fullName: text(raw.fullname),
      email: contact.email,
      phone: contact.phone,
      language: normaliseLanguage(raw.preferred_locale),
      country: contact.country,
    },
    dropped: contact.dropped,
  };
}

function firstField(list: unknown, field: string): unknown {
  if (!Array.isArray(list)) return undefined;
  const first: unknown = list[0];
  return isObject(first) ? first[field] : undefined;
}

/** `resource.booking`, or the first of `resource.bookings` (the docs do not pin which). */
function pick(resource: Record<string, unknown>, single: string, plural: string): Record<string, unknown> | undefined {
  const one = resource[single];
  if (isObject(one)) return one;
  const many = resource[plural];
  return Array.isArray(many) && isObject(many[0]) ? many[0] : undefined;
}
