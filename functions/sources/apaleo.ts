import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { normaliseContact, normaliseLanguage, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { isObject, own } from '../core/own.ts';
import { emptyGuest, sumOf, type Party, type Reservation, type ReservationStatus } from '../core/reservation.ts';
import { instantToLocal } from '../core/time.ts';
import { optionalNumber, parsePayload } from './payload.ts';
import type { Delivery, ParsedDelivery, Source } from './source.ts';
import { isBasicSecret, verifyHttpBasic } from './http-basic.ts';
import { verifyUrlToken } from './url-token.ts';

/**
 * apaleo webhooks (apaleo.dev/guides/webhook). No HMAC: apaleo recommends a unique token in
 * the URL (url-token.ts) or HTTP Basic credentials (`{"username","password"}` as the secret,
 * http-basic.ts), and sends from three outbound addresses (`allowedSourceIps`).
 * - `{topic, type, id, accountId, propertyId, timestamp (ms), data: {entityId}}`: the
 *   reservation id only. `Reservation` events (`created`, `changed`, `amended`, `canceled`,
 *   `checked-in`, `checked-out`, `unit-assigned`, `unit-unassigned`, `set-to-no-show`,
 *   `deleted`, ...) become a thin event; the sync worker reads the reservation from the
 *   Booking API (apaleo-api.ts).
 * - The health check apaleo sends when a subscription is made (`topic: "system"`) must get a
 *   2xx, or the subscription is refused: it is acknowledged (200 ignored). So are other topics.
 */

const Envelope = z.object({
  topic: z.string().check(z.minLength(1)),
  type: z.string().check(z.minLength(1)),
});

const statusMap: Record<string, ReservationStatus> = {
  Confirmed: 'confirmed',
  InHouse: 'checked_in',
  CheckedOut: 'checked_out',
  Canceled: 'cancelled',
  NoShow: 'cancelled', // the guest never came: nothing to hold (sourceStatus says NoShow)
};

export const apaleo: Source = {
  verify(delivery: Delivery, secret: unknown) {
    // A URL token, or HTTP Basic credentials in the endpoint URL (both apaleo recommends).
    return isBasicSecret(secret) ? verifyHttpBasic(delivery, secret) : verifyUrlToken(delivery, secret);
  },

  parse(body: unknown): ParsedDelivery {
    const envelope = parsePayload(Envelope, body);
    const topic = envelope.topic.toLowerCase(); // "Reservation" in events, lower-case elsewhere
    if (topic === 'system') return { kind: 'ignored', reason: `system:${envelope.type}` };
    if (topic !== 'reservation') return { kind: 'ignored', reason: `not_a_reservation_event:${envelope.topic}/${envelope.type}` };
    const raw = body as Record<string, unknown>;
    const data = isObject(raw.data) ? raw.data : {};
    const entityId = typeof data.entityId === 'string' && data.entityId !== '' ? data.entityId : undefined;
    if (!entityId) throw new WebhookError(400, 'missing_field', 'The field data.entityId is required.');
    const propertyId = typeof raw.propertyId === 'string' && raw.propertyId !== '' ? raw.propertyId : undefined;
    // Only a hint (the reservation's `modified` orders it): one that is not epoch ms is left out.
    const timestamp = typeof raw.timestamp === 'number' && Number.isSafeInteger(raw.timestamp) && raw.timestamp >= 0 ? raw.timestamp : undefined;
    return {
      kind: 'thin',
      events: [
        {
          kind: 'reservation_ref',
          reservationId: entityId,
          ...(propertyId ? { propertyId } : {}),
          hints: { event: `reservation/${envelope.type}`, ...(timestamp !== undefined ? { version: timestamp } : {}) },
        },
      ],
    };
  },
};

const instant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date and time' });

const ApaleoReservation = z.object({
  id: z.string().check(z.minLength(1)),
  status: z.string().check(z.minLength(1)),
  arrival: instant,
  departure: instant,
  property: z.object({ id: z.string().check(z.minLength(1)) }),
});

/**
 * A reservation from `GET /booking/v1/reservations/{id}` as the canonical one. `arrival` and
 * `departure` carry the property's offset (or are UTC): the local date and time come from the
 * instant placed in the property's time zone. Ordered by `modified`, else the event's time.
 */
export function normaliseApaleoReservation(raw: unknown, connectionId: string, connection: ConnectionConfig, fallbackVersion: number, prefix: string): Reservation {
  const r = parsePayload(ApaleoReservation, raw, prefix);
  const data = raw as Record<string, unknown>;
  if (Date.parse(r.departure) < Date.parse(r.arrival)) throw new WebhookError(400, 'invalid_field', `The field ${prefix}.departure is before ${prefix}.arrival.`);
  const property = own(connection.properties, r.property.id);
  const zone = property?.timeZone ?? 'UTC';
  const start = instantToLocal(r.arrival, zone);
  const end = instantToLocal(r.departure, zone);
  const dropped: Reservation['dropped'] = [];
  const children = Array.isArray(data.childrenAges) ? data.childrenAges.length : null;
  const party: Party = { adults: optionalNumber(data.adults, 'party.adults', dropped), children, infants: null };
  const guest = isObject(data.primaryGuest) ? data.primaryGuest : {};
  const address = isObject(guest.address) ? guest.address : {};
  const contact = normaliseContact({ email: guest.email, phone: guest.phone, country: address.countryCode ?? guest.nationalityCountryCode }, property?.country);
  const unit = isObject(data.unit) && typeof data.unit.id === 'string' ? data.unit.id : null;
  const modified = typeof data.modified === 'string' ? Date.parse(data.modified) : NaN;
  return {
    source: 'apaleo',
    connectionId,
    reservationId: r.id,
    propertyId: r.property.id,
    unitId: unit,
    status: own(statusMap, r.status) ?? 'tentative',
    sourceStatus: r.status,
    stay: { checkInDate: start.date, checkOutDate: end.date, checkInTime: start.time, checkOutTime: end.time, timeZone: property?.timeZone ?? null },
    guest: {
      ...emptyGuest,
      firstName: text(guest.firstName),
      lastName: text(guest.lastName),
      email: contact.email,
      phone: contact.phone,
      language: normaliseLanguage(guest.preferredLanguage),
      country: contact.country,
    },
    partySize: sumOf(party),
    party,
    sourceVersion: Number.isFinite(modified) ? modified : fallbackVersion,
    dropped: [...dropped, ...contact.dropped],
  };
}
