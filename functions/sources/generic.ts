import { z } from 'zod';
import { normaliseContact, normaliseLanguage, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { ReservationStatus, sumOf, type DroppedField, type Party, type Reservation } from '../core/reservation.ts';
import { rotatingValues } from '../core/secrets.ts';
import { parsePayload } from './payload.ts';
import { propertyOf, type Delivery, type ParsedDelivery, type Source, type SourceContext } from './source.ts';
import { verifyStandardWebhook } from './standard-webhooks.ts';

/**
 * `generic`: for a custom internal system. The body is guest-sync's documented canonical
 * JSON (docs/generic-webhook.md), signed with Standard Webhooks.
 *
 *   { "type": "reservation.upserted", "reservation": { "id", "propertyId", "status",
 *     "checkInDate", "checkOutDate", "version" | "updatedAt", "guest": {...}, ... } }
 *
 * `type: "ping"` is acknowledged and dropped.
 */

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time HH:MM');

const GenericReservation = z.object({
  id: z.string().min(1).max(200),
  propertyId: z.string().min(1).max(200),
  unitId: z.string().min(1).max(200).nullish(),
  status: ReservationStatus,
  checkInDate: z.iso.date('expected a date YYYY-MM-DD'),
  checkOutDate: z.iso.date('expected a date YYYY-MM-DD'),
  checkInTime: localTime.nullish(),
  checkOutTime: localTime.nullish(),
  timeZone: z.string().nullish(),
  version: z.number().int().nonnegative().optional(),
  updatedAt: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date-time with offset' }).optional(),
  // Party counts are optional: one out of range is dropped (bounds.ts), not rejected.
  partySize: z.unknown().optional(),
  adults: z.unknown().optional(),
  children: z.unknown().optional(),
  infants: z.unknown().optional(),
  // Contact fields are read leniently below: a bad one is dropped, not rejected.
  guest: z.record(z.string(), z.unknown()).nullish(),
});

const GenericBody = z.object({
  type: z.enum(['reservation.upserted', 'ping'], 'expected "reservation.upserted" or "ping"'),
  reservation: z.unknown().optional(),
});

export const generic: Source = {
  verify(delivery: Delivery, secret: unknown, context: SourceContext) {
    return verifyStandardWebhook(
      delivery.rawBody,
      {
        id: delivery.headers['webhook-id'],
        timestamp: delivery.headers['webhook-timestamp'],
        signature: delivery.headers['webhook-signature'],
      },
      rotatingValues(secret),
      context.now,
    );
  },

  parse(body: unknown, context: SourceContext): ParsedDelivery {
    const envelope = parsePayload(GenericBody, body);
    if (envelope.type === 'ping') return { kind: 'ignored', reason: 'test_ping' };
    const input = parsePayload(GenericReservation, envelope.reservation, 'reservation');
    if (input.checkOutDate < input.checkInDate) {
      throw new WebhookError(400, 'invalid_field', 'The field reservation.checkOutDate is before reservation.checkInDate.');
    }
    if (input.version === undefined && input.updatedAt === undefined) {
      throw new WebhookError(400, 'missing_field', 'One of reservation.version or reservation.updatedAt is required to order updates.');
    }
    const guest = input.guest ?? {};
    const dropped: DroppedField[] = [];
    const count = (value: unknown, field: string): number | null => {
      if (value === undefined || value === null) return null;
      if (typeof value === 'number') return value; // bounds.ts drops one out of range
      dropped.push({ field, reason: 'not_a_number' });
      return null;
    };
    const party: Party = { adults: count(input.adults, 'party.adults'), children: count(input.children, 'party.children'), infants: count(input.infants, 'party.infants') };
    const contact = normaliseContact({ email: guest.email, phone: guest.phone, country: guest.country }, propertyOf(context, input.propertyId)?.country);

    const reservation: Reservation = {
      source: 'generic',
      connectionId: context.connectionId,
      reservationId: input.id,
      propertyId: input.propertyId,
      unitId: input.unitId ?? null,
      status: input.status,
      sourceStatus: input.status,
      stay: {
        checkInDate: input.checkInDate,
        checkOutDate: input.checkOutDate,
        checkInTime: input.checkInTime ?? null,
        checkOutTime: input.checkOutTime ?? null,
        timeZone: input.timeZone ?? null,
      },
      guest: {
        firstName: text(guest.firstName),
        lastName: text(guest.lastName),
        fullName: text(guest.fullName),
        email: contact.email,
        phone: contact.phone,
        language: normaliseLanguage(guest.language),
        country: contact.country,
      },
      partySize: count(input.partySize, 'partySize') ?? sumOf(party),
      party,
      sourceVersion: input.version ?? Date.parse(input.updatedAt!),
      dropped: [...contact.dropped, ...dropped],
    };
    return { kind: 'reservations', reservations: [reservation] };
  },
};
