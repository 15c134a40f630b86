import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { normaliseContact, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { isObject, own } from '../core/own.ts';
import { emptyGuest, sumOf, type Party, type Reservation, type ReservationStatus } from '../core/reservation.ts';
import { parsePayload } from './payload.ts';
import type { Delivery, ParsedDelivery, Source } from './source.ts';
import { verifyUrlToken } from './url-token.ts';

/**
 * Cloudbeds webhooks (`postWebhook` subscriptions per object/action). No signature: the
 * connection's secret is a token in the URL (url-token.ts).
 * - Thin: `{reservationID, propertyID, startDate, endDate, event, timestamp}`. The key case
 *   differs between events (`reservation/dates_changed` sends `reservationId`, `propertyId`),
 *   so keys are read case-insensitively. `reservation/created`, `status_changed`,
 *   `dates_changed` and `deleted` become a thin event; the worker reads the reservation
 *   (`getReservation`, guests and rooms inline) from the API (cloudbeds-api.ts).
 * - `timestamp` (Unix seconds, a float with microseconds) orders the events of a reservation.
 * - Guest, transaction and room-block events are acknowledged and ignored.
 */

const RESERVATION_EVENTS: ReadonlySet<string> = new Set(['reservation/created', 'reservation/status_changed', 'reservation/dates_changed', 'reservation/deleted']);

export const cloudbeds: Source = {
  verify(delivery: Delivery, secret: unknown) {
    return verifyUrlToken(delivery, secret);
  },

  parse(body: unknown): ParsedDelivery {
    if (!isObject(body)) throw new WebhookError(400, 'invalid_payload', 'The body must be a JSON object.');
    const field = caseInsensitive(body);
    const event = field('event');
    if (typeof event !== 'string' || event === '') throw new WebhookError(400, 'missing_field', 'The field event is required.');
    if (!RESERVATION_EVENTS.has(event)) return { kind: 'ignored', reason: `not_a_reservation_event:${event}` };
    const reservationId = idOf(field('reservationID'));
    if (!reservationId) throw new WebhookError(400, 'missing_field', 'The field reservationID is required.');
    const timestamp = field('timestamp');
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) {
      throw new WebhookError(400, timestamp === undefined ? 'missing_field' : 'invalid_field', 'The field timestamp is required to order events and must be Unix seconds.');
    }
    const propertyId = idOf(field('propertyID_str')) ?? idOf(field('propertyID'));
    return {
      kind: 'thin',
      events: [
        {
          kind: 'reservation_ref',
          reservationId,
          ...(propertyId ? { propertyId } : {}),
          hints: { event, version: Math.round(timestamp * 1000) },
        },
      ],
    };
  },
};

const date = z.iso.date('expected a date YYYY-MM-DD');

const CloudbedsReservation = z.object({
  reservationID: z.pipe(z.union([z.string().check(z.minLength(1)), z.int().check(z.nonnegative())]), z.transform(String)),
  propertyID: z.pipe(z.union([z.string().check(z.minLength(1)), z.int().check(z.nonnegative())]), z.transform(String)),
  status: z.string().check(z.minLength(1)),
  startDate: date,
  endDate: date,
});

const statusMap: Record<string, ReservationStatus> = {
  confirmed: 'confirmed',
  not_confirmed: 'tentative',
  checked_in: 'checked_in',
  checked_out: 'checked_out',
  canceled: 'cancelled',
  no_show: 'cancelled', // the guest never came (sourceStatus says no_show)
};

/**
 * `getReservation`'s `data` as the canonical reservation: local dates (no times: the
 * property's defaults apply), the main guest from `guestList` (a map keyed by guest id), the
 * party summed over the assigned rooms (counts come as strings), the first room as the unit.
 */
export function normaliseCloudbedsReservation(raw: unknown, connectionId: string, connection: ConnectionConfig, version: number, prefix: string): Reservation {
  const r = parsePayload(CloudbedsReservation, raw, prefix);
  if (r.endDate < r.startDate) throw new WebhookError(400, 'invalid_field', `The field ${prefix}.endDate is before ${prefix}.startDate.`);
  const data = raw as Record<string, unknown>;
  const property = own(connection.properties, r.propertyID);
  const guests = isObject(data.guestList) ? Object.values(data.guestList).filter(isObject) : [];
  const main = guests.find((g) => g.isMainGuest === true) ?? guests[0] ?? {};
  const contact = normaliseContact({ email: main.guestEmail ?? data.guestEmail, phone: main.guestCellPhone || main.guestPhone, country: main.guestCountry }, property?.country);
  const rooms = Array.isArray(data.assigned) ? data.assigned.filter(isObject) : [];
  const party: Party = { adults: sumCounts(rooms, 'adults'), children: sumCounts(rooms, 'children'), infants: null };
  const firstRoom = rooms[0];
  const unit = firstRoom && (typeof firstRoom.roomID === 'string' || typeof firstRoom.roomID === 'number') ? String(firstRoom.roomID) : null;
  return {
    source: 'cloudbeds',
    connectionId,
    reservationId: r.reservationID,
    propertyId: r.propertyID,
    unitId: unit,
    status: own(statusMap, r.status) ?? 'tentative',
    sourceStatus: r.status,
    stay: { checkInDate: r.startDate, checkOutDate: r.endDate, checkInTime: null, checkOutTime: null, timeZone: property?.timeZone ?? null },
    guest: {
      ...emptyGuest,
      firstName: text(main.guestFirstName),
      lastName: text(main.guestLastName),
      fullName: text(data.guestName),
      email: contact.email,
      phone: contact.phone,
      country: contact.country,
    },
    partySize: sumOf(party),
    party,
    sourceVersion: version,
    dropped: contact.dropped,
  };
}

/** Per-room counts as Cloudbeds sends them (strings or numbers), summed; null when no room gives one. */
function sumCounts(rooms: Record<string, unknown>[], key: string): number | null {
  let total: number | null = null;
  for (const room of rooms) {
    const value = typeof room[key] === 'string' ? Number(room[key]) : room[key];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) total = (total ?? 0) + value;
  }
  return total;
}

function caseInsensitive(body: Record<string, unknown>): (name: string) => unknown {
  const byLower = new Map(Object.keys(body).map((key) => [key.toLowerCase(), body[key]]));
  return (name) => byLower.get(name.toLowerCase());
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}
