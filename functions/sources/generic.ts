import * as z from '../core/zod.ts';
import { normaliseContact, normaliseLanguage, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { ReservationStatus, sumOf, type DroppedField, type Party, type Reservation } from '../core/reservation.ts';
import { rotatingValues } from '../core/secrets.ts';
import { optionalNumber, optionalString, parsePayload } from './payload.ts';
import { propertyOf, type Delivery, type ParsedDelivery, type Source, type SourceContext } from './source.ts';
import { verifyStandardWebhook } from './standard-webhooks.ts';
import { isObject } from '../core/own.ts';

/**
 * `generic`: for a custom internal system. The body is guest-sync's documented canonical
 * JSON (docs/generic-webhook.md), signed with Standard Webhooks.
 *
 *   { "type": "reservation.upserted", "reservation": { "id", "propertyId", "status",
 *     "checkInDate", "checkOutDate", "version" | "updatedAt", "guest": {...}, ... } }
 *
 * `type: "ping"` is acknowledged and dropped.
 */

const GenericReservation = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(200)),
  propertyId: z.string().check(z.minLength(1), z.maxLength(200)),
  // Optional fields are read leniently below: a bad one is dropped and recorded, not rejected.
  unitId: z.optional(z.unknown()),
  status: ReservationStatus,
  checkInDate: z.iso.date('expected a date YYYY-MM-DD'),
  checkOutDate: z.iso.date('expected a date YYYY-MM-DD'),
  checkInTime: z.optional(z.unknown()),
  checkOutTime: z.optional(z.unknown()),
  timeZone: z.optional(z.unknown()),
  version: z.optional(z.int().check(z.nonnegative())),
  updatedAt: z.optional(z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date-time with offset' })),
  // Party counts are optional: one out of range is dropped (bounds.ts), not rejected.
  partySize: z.optional(z.unknown()),
  adults: z.optional(z.unknown()),
  children: z.optional(z.unknown()),
  infants: z.optional(z.unknown()),
  guest: z.optional(z.unknown()),
});

const GenericBody = z.object({
  type: z.enum(['reservation.upserted', 'ping'], 'expected "reservation.upserted" or "ping"'),
  reservation: z.optional(z.unknown()),
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
    const dropped: DroppedField[] = [];
    const guest = isObject(input.guest) ? input.guest : {};
    if (input.guest !== undefined && input.guest !== null && !isObject(input.guest)) dropped.push({ field: 'guest', reason: 'not_an_object' });
    const count = (value: unknown, field: string) => optionalNumber(value, field, dropped);
    const unitId = optionalString(input.unitId, 'unitId', dropped);
    const party: Party = { adults: count(input.adults, 'party.adults'), children: count(input.children, 'party.children'), infants: count(input.infants, 'party.infants') };
    const contact = normaliseContact({ email: guest.email, phone: guest.phone, country: guest.country }, propertyOf(context, input.propertyId)?.country);

    const reservation: Reservation = {
      source: 'generic',
      connectionId: context.connectionId,
      reservationId: input.id,
      propertyId: input.propertyId,
      unitId: unitId === '' ? null : unitId,
      status: input.status,
      sourceStatus: input.status,
      stay: {
        checkInDate: input.checkInDate,
        checkOutDate: input.checkOutDate,
        checkInTime: optionalString(input.checkInTime, 'stay.checkInTime', dropped),
        checkOutTime: optionalString(input.checkOutTime, 'stay.checkOutTime', dropped),
        timeZone: optionalString(input.timeZone, 'stay.timeZone', dropped),
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
