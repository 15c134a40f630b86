import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { normaliseContact, normaliseLanguage, text } from '../core/contact.ts';
import { WebhookError } from '../core/errors.ts';
import { isObject, own } from '../core/own.ts';
import { emptyGuest, type Party, type Reservation, type ReservationStatus } from '../core/reservation.ts';
import { instantToLocal } from '../core/time.ts';
import { parsePayload } from './payload.ts';
import { receiptDeliveryId, type Delivery, type ParsedDelivery, type Source, type ThinEvent } from './source.ts';
import { verifyUrlToken } from './url-token.ts';

/**
 * Mews Connector API "General Webhooks" (MewsSystems/gitbook-connector-api, events/wh-general.md).
 * - Mews adds a shared token to the URL on request (url-token.ts); no HMAC. Mews waits 5 s
 *   for an answer: ingest never calls Mews.
 * - One delivery `{EnterpriseId, IntegrationId, Events: [{Discriminator, Value: {Id}}]}` holds
 *   many events of several kinds, ids only, and the same id may appear twice. Each
 *   `ServiceOrderUpdated` (a reservation; creation counts as an update) becomes one thin event,
 *   deduplicated within the batch, in its reservation's FIFO group; each `CustomerUpdated`
 *   becomes one `client_ref`, which resyncs that customer's upcoming reservations. Other kinds
 *   (`CustomerAdded`: a new customer has no reservations yet; resources, payments, messages)
 *   are ignored. The sync worker reads everything from the API (mews-api.ts).
 * - The enterprise (`EnterpriseId`) is the property.
 */

const MewsDelivery = z.object({
  EnterpriseId: z.string().check(z.minLength(1)),
  Events: z.array(z.unknown()),
});

export const mews: Source = {
  verify(delivery: Delivery, secret: unknown) {
    verifyUrlToken(delivery, secret);
    return { deliveryId: receiptDeliveryId() };
  },

  parse(body: unknown): ParsedDelivery {
    const batch = parsePayload(MewsDelivery, body);
    const reservations = new Map<string, ThinEvent>();
    const customers = new Map<string, ThinEvent>();
    batch.Events.forEach((raw, index) => {
      const event = isObject(raw) ? raw : {};
      const kind = event.Discriminator;
      if (kind !== 'ServiceOrderUpdated' && kind !== 'CustomerUpdated') return;
      const id = isObject(event.Value) && typeof event.Value.Id === 'string' && event.Value.Id !== '' ? event.Value.Id : undefined;
      if (!id) throw new WebhookError(400, 'missing_field', `The field Events.${index}.Value.Id is required.`);
      const hints = { event: kind, enterpriseId: batch.EnterpriseId };
      if (kind === 'ServiceOrderUpdated') reservations.set(id, { kind: 'reservation_ref', reservationId: id, propertyId: batch.EnterpriseId, hints });
      else customers.set(id, { kind: 'client_ref', clientId: id, hints });
    });
    const events = [...reservations.values(), ...customers.values()];
    if (events.length === 0) return { kind: 'ignored', reason: batch.Events.length === 0 ? 'empty_batch' : 'no_reservation_or_customer_update' };
    return { kind: 'thin', events };
  },
};

const instant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 UTC time' });

const MewsReservation = z.object({
  Id: z.string().check(z.minLength(1)),
  State: z.string().check(z.minLength(1)),
  ScheduledStartUtc: instant,
  ScheduledEndUtc: instant,
  UpdatedUtc: instant,
});

const stateMap: Record<string, ReservationStatus> = {
  Confirmed: 'confirmed',
  Started: 'checked_in', // the front desk checked the guest in
  Processed: 'checked_out',
  Canceled: 'cancelled', // a no-show too (CancellationReason NoShow)
  Optional: 'tentative',
  Requested: 'tentative',
  Inquired: 'inquiry',
};

export type AgeClassifications = ReadonlyMap<string, 'Adult' | 'Child' | string>;

/**
 * A Mews reservation (`reservations/getAll` 2023-06-06) and its customer as the canonical
 * reservation. `ScheduledStartUtc` / `ScheduledEndUtc` are UTC instants: they become local dates
 * and times in the enterprise's time zone (the property config). `PersonCounts` are split into
 * adults and children by the age categories' classification when known, else only totalled.
 */
export function normaliseMewsReservation(
  raw: unknown,
  customer: Record<string, unknown> | null,
  ages: AgeClassifications,
  enterpriseId: string,
  connectionId: string,
  connection: ConnectionConfig,
  prefix: string,
): Reservation {
  const r = parsePayload(MewsReservation, raw, prefix);
  if (Date.parse(r.ScheduledEndUtc) < Date.parse(r.ScheduledStartUtc)) throw new WebhookError(400, 'invalid_field', `The field ${prefix}.ScheduledEndUtc is before ${prefix}.ScheduledStartUtc.`);
  const data = raw as Record<string, unknown>;
  const property = own(connection.properties, enterpriseId);
  const zone = property?.timeZone ?? 'UTC';
  const start = instantToLocal(r.ScheduledStartUtc, zone);
  const end = instantToLocal(r.ScheduledEndUtc, zone);
  const { party, total } = partyOf(data.PersonCounts, ages);
  const guest = customer ?? {};
  const contact = normaliseContact({ email: guest.Email, phone: guest.Phone, country: guest.NationalityCode }, property?.country);
  const cancelledAs = r.State === 'Canceled' && typeof data.CancellationReason === 'string' ? `/${data.CancellationReason}` : '';
  return {
    source: 'mews',
    connectionId,
    reservationId: r.Id,
    propertyId: enterpriseId,
    unitId: typeof data.AssignedResourceId === 'string' && data.AssignedResourceId !== '' ? data.AssignedResourceId : null,
    status: own(stateMap, r.State) ?? 'tentative',
    sourceStatus: `${r.State}${cancelledAs}`,
    stay: { checkInDate: start.date, checkOutDate: end.date, checkInTime: start.time, checkOutTime: end.time, timeZone: property?.timeZone ?? null },
    guest: {
      ...emptyGuest,
      firstName: text(guest.FirstName),
      lastName: text(guest.LastName),
      email: guest.HasOtaEmail === true ? null : contact.email, // an OTA relay address reaches no one
      phone: contact.phone,
      language: normaliseLanguage(guest.PreferredLanguageCode ?? guest.LanguageCode),
      country: contact.country,
    },
    partySize: total,
    party,
    sourceVersion: Date.parse(r.UpdatedUtc),
    dropped: contact.dropped,
  };
}

function partyOf(raw: unknown, ages: AgeClassifications): { party: Party; total: number | null } {
  const party: Party = { adults: null, children: null, infants: null };
  let total: number | null = null;
  for (const entry of Array.isArray(raw) ? raw : []) {
    if (!isObject(entry) || typeof entry.Count !== 'number' || !Number.isInteger(entry.Count) || entry.Count < 0) continue;
    total = (total ?? 0) + entry.Count;
    const classification = typeof entry.AgeCategoryId === 'string' ? ages.get(entry.AgeCategoryId) : undefined;
    if (classification === 'Adult') party.adults = (party.adults ?? 0) + entry.Count;
    else if (classification === 'Child') party.children = (party.children ?? 0) + entry.Count;
  }
  return { party, total };
}
