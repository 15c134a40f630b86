import { WebhookError } from './errors.ts';
import { hotParse } from './zod-jit.ts';
import { LIMITS, nightsBetween, ReservationId, Stay, TimeZone, type DroppedField, type Party, type Reservation } from './reservation.ts';
import { carriable, carriableDeep, truncate } from './text.ts';

/**
 * Fits a reservation a source produced into the canonical model's bounds (README "Bounds"),
 * the one place that decides what is rejected and what is cut:
 * - required fields (ids, stay dates, the stay's length, the version) out of bounds: a 400
 *   naming the field, since no reservation can be had without them;
 * - optional ones (names, contact, unit, party counts, the PMS's zone and times): cut to their
 *   cap or dropped, and recorded in `dropped` (never the value);
 * - every string: U+FFFE, U+FFFF and unpaired surrogates become U+FFFD (text.ts).
 * The result parses against `Reservation`, the schema sync reads; the callers check that at
 * their boundary (ingest with the whole queue message, the PMS fetch with `Reservation`), so
 * what ingest accepts, sync can carry.
 */
export interface BoundsOptions {
  /** Config `maxStayNights`. */
  maxStayNights: number;
}

export function fitReservation(input: Reservation, options: BoundsOptions): Reservation {
  const r = carriableDeep(input);
  const dropped: DroppedField[] = [...r.dropped];
  const drop = (field: string, reason: string) => dropped.push({ field, reason });

  fitRequiredId(r.reservationId, 'reservation id');
  fitRequiredId(r.propertyId, 'property id');
  requireVersion(r.sourceVersion);
  const stay = fitStay(r.stay, options, drop);

  let unitId = r.unitId;
  if (unitId !== null && !ReservationId.safeParse(unitId).success) unitId = dropAs(drop, 'unitId', 'too_long');

  const guest = { ...r.guest };
  for (const name of ['firstName', 'lastName', 'fullName'] as const) {
    const value = guest[name];
    if (value !== null && value.length > LIMITS.nameLength) {
      guest[name] = truncate(value, LIMITS.nameLength);
      drop(`guest.${name}`, 'truncated');
    }
  }
  if (guest.email !== null && guest.email.length > LIMITS.emailLength) guest.email = dropAs(drop, 'guest.email', 'too_long');
  if (guest.phone !== null && guest.phone.length > LIMITS.phoneLength) guest.phone = dropAs(drop, 'guest.phone', 'too_long');
  if (guest.language !== null && !/^[a-z]{2}$/.test(guest.language)) guest.language = dropAs(drop, 'guest.language', 'invalid_language');
  if (guest.country !== null && !/^[A-Z]{2}$/.test(guest.country)) guest.country = dropAs(drop, 'guest.country', 'invalid_country');

  const party: Party = { adults: count(r.party.adults, 'party.adults', drop), children: count(r.party.children, 'party.children', drop), infants: count(r.party.infants, 'party.infants', drop) };
  const partySize = count(r.partySize, 'partySize', drop);

  let sourceStatus = r.sourceStatus;
  if (sourceStatus.length > LIMITS.textLength) {
    sourceStatus = truncate(sourceStatus, LIMITS.textLength);
    drop('sourceStatus', 'truncated');
  }

  return {
    ...r,
    unitId,
    sourceStatus,
    stay,
    guest,
    party,
    partySize,
    dropped: dedupe(dropped).slice(0, LIMITS.droppedEntries),
  };
}

/** A required id (reservation, property, client), carriable; a 400 naming it when it is missing or too long. */
export function fitRequiredId(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new WebhookError(400, 'missing_field', `The ${what} is required.`);
  const id = carriable(value);
  if (id.length > LIMITS.idLength) throw new WebhookError(400, 'invalid_field', `The ${what} is ${id.length} characters long; the limit is ${LIMITS.idLength}.`);
  return id;
}

/** An optional id, carriable, or undefined when it does not fit. */
export function fitOptionalId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const id = carriable(value);
  return ReservationId.safeParse(id).success ? id : undefined;
}

function requireVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new WebhookError(400, 'invalid_field', 'The reservation version (its updated-at time or version counter) is not a valid time or whole number.');
  }
}

function fitStay(stay: Stay, options: BoundsOptions, drop: (field: string, reason: string) => void): Stay {
  const dates = hotParse(Stay, { ...stay, checkInTime: null, checkOutTime: null, timeZone: null });
  if (!dates.success) {
    const issue = dates.error.issues[0]!;
    const field = issue.path[0] === 'checkInDate' ? 'check-in date' : 'check-out date';
    throw new WebhookError(400, 'invalid_field', `The stay's ${field} is invalid: ${issue.message.replace(/\.$/, '')}.`);
  }
  const nights = nightsBetween(stay.checkInDate, stay.checkOutDate);
  if (nights > options.maxStayNights) {
    throw new WebhookError(400, 'stay_too_long', `The stay from ${stay.checkInDate} to ${stay.checkOutDate} is ${nights} nights; the limit is ${options.maxStayNights} (config maxStayNights).`);
  }
  const time = (value: string | null, field: string) => (value === null || Stay.shape.checkInTime.safeParse(value).success ? value : dropAs(drop, field, 'invalid_time'));
  return {
    checkInDate: stay.checkInDate,
    checkOutDate: stay.checkOutDate,
    checkInTime: time(stay.checkInTime, 'stay.checkInTime'),
    checkOutTime: time(stay.checkOutTime, 'stay.checkOutTime'),
    timeZone: stay.timeZone === null || TimeZone.safeParse(stay.timeZone).success ? stay.timeZone : dropAs(drop, 'stay.timeZone', 'invalid_time_zone'),
  };
}

function count(value: number | null, field: string, drop: (field: string, reason: string) => void): number | null {
  if (value === null) return null;
  return Number.isInteger(value) && value >= 0 && value <= LIMITS.partyMax ? value : dropAs(drop, field, 'out_of_range');
}

function dropAs(drop: (field: string, reason: string) => void, field: string, reason: string): null {
  drop(field, reason);
  return null;
}

function dedupe(list: DroppedField[]): DroppedField[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const key = `${d.field}\n${d.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Short text a source passes along (hints such as an event name or a guest id): carriable and capped, or left out. */
export function fitHint(value: string): string | undefined {
  const text = carriable(value);
  return text.length <= LIMITS.idLength ? text : undefined;
}
