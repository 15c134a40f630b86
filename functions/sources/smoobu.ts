import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { normaliseContact, normaliseLanguage, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { isObject, own } from '../core/own.ts';
import { emptyGuest, sumOf, type Party, type Reservation, type ReservationStatus } from '../core/reservation.ts';
import { optionalNumber, parsePayload } from './payload.ts';
import { receiptDeliveryId, type Delivery, type ParsedDelivery, type Source, type SourceContext } from './source.ts';
import { verifyUrlToken } from './url-token.ts';

/**
 * Smoobu webhooks (set in the account under Settings → API & Webhooks). Smoobu documents no
 * signature, so the connection's secret is an unguessable token in the webhook URL
 * (url-token.ts), and an IP allow-list may be added (`allowedSourceIps`).
 * - `{"action", "user", "data": <reservation>}`: `newReservation`, `updateReservation`,
 *   `cancelReservation` (also `deleteReservation`, seen in no source but harmless to accept);
 *   a cancelled reservation also shows `data.type: "cancellation"`. Other actions
 *   (`newMessage`...) are acknowledged and ignored.
 * - Owner blocks (`is-blocked-booking: true`) hold no stay.
 * - `arrival` / `departure` are local dates; `check-in` / `check-out` local "HH:mm".
 * - Which field orders updates (`modifiedAt` or `modified-at`) is uncertain, so the payload is
 *   a hint: the sync worker re-reads the reservation from Smoobu's API (smoobu-api.ts).
 */

const RESERVATION_ACTIONS: ReadonlySet<string> = new Set(['newReservation', 'updateReservation', 'cancelReservation', 'deleteReservation']);
const CANCELLING_ACTIONS: ReadonlySet<string> = new Set(['cancelReservation', 'deleteReservation']);

const id = z.pipe(z.union([z.int().check(z.nonnegative()), z.string().check(z.regex(/^\d+$/, 'expected a numeric id'))]), z.transform(String));
const date = z.iso.date('expected a date YYYY-MM-DD');

const SmoobuReservation = z.object({
  id,
  apartment: z.object({ id }),
  arrival: date,
  departure: date,
});

export const smoobu: Source = {
  verify(delivery: Delivery, secret: unknown) {
    verifyUrlToken(delivery, secret);
    return { deliveryId: receiptDeliveryId() };
  },

  parse(body: unknown, context: SourceContext): ParsedDelivery {
    if (!isObject(body)) throw new WebhookError(400, 'invalid_payload', 'The body must be a JSON object.');
    if (typeof body.action !== 'string' || body.action === '') throw new WebhookError(400, 'missing_field', 'The field action is required.');
    const action = body.action;
    if (!RESERVATION_ACTIONS.has(action)) return { kind: 'ignored', reason: `not_a_reservation_event:${action}` };
    if (!isObject(body.data)) throw new WebhookError(400, 'missing_field', 'The field data is required and must hold the reservation.');
    const partial = normaliseSmoobuReservation(body.data, context.connectionId, context.connection, context.now, 'data');
    return {
      kind: 'thin',
      events: [
        {
          kind: 'reservation_ref',
          reservationId: partial.reservationId,
          propertyId: partial.propertyId,
          partial: CANCELLING_ACTIONS.has(action) ? { ...partial, status: 'cancelled' } : partial,
          hints: { event: action },
        },
      ],
    };
  },
};

/** A Smoobu reservation (webhook `data` or `GET /api/reservations/{id}`, the same shape) as the canonical one. */
export function normaliseSmoobuReservation(raw: unknown, connectionId: string, connection: ConnectionConfig, version: number, prefix: string): Reservation {
  const r = parsePayload(SmoobuReservation, raw, prefix);
  if (r.departure < r.arrival) throw new WebhookError(400, 'invalid_field', `The field ${prefix}.departure is before ${prefix}.arrival.`);
  const data = raw as Record<string, unknown>;
  const type = typeof data.type === 'string' ? data.type : 'reservation';
  const status: ReservationStatus = data['is-blocked-booking'] === true ? 'owner_block' : type === 'cancellation' ? 'cancelled' : 'confirmed';
  const property = own(connection.properties, r.apartment.id);
  const dropped: Reservation['dropped'] = [];
  const party: Party = { adults: optionalNumber(data.adults, 'party.adults', dropped), children: optionalNumber(data.children, 'party.children', dropped), infants: null };
  const contact = normaliseContact({ email: data.email, phone: data.phone, country: null }, property?.country);
  return {
    source: 'smoobu',
    connectionId,
    reservationId: r.id,
    propertyId: r.apartment.id,
    unitId: null,
    status,
    sourceStatus: data['is-blocked-booking'] === true ? 'blocked' : type,
    stay: {
      checkInDate: r.arrival,
      checkOutDate: r.departure,
      checkInTime: hhmm(data['check-in']),
      checkOutTime: hhmm(data['check-out']),
      timeZone: property?.timeZone ?? null,
    },
    guest: {
      ...emptyGuest,
      firstName: text(data.firstname),
      lastName: text(data.lastname),
      fullName: text(data['guest-name']),
      email: contact.email,
      phone: contact.phone,
      language: normaliseLanguage(data.language),
      country: contact.country,
    },
    partySize: sumOf(party),
    party,
    sourceVersion: version,
    dropped: [...dropped, ...contact.dropped],
  };
}

function hhmm(value: unknown): string | null {
  return typeof value === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(value.trim()) ? value.trim() : null;
}
