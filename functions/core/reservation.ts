import * as z from './zod.ts';
import { isCarriable } from './text.ts';
import { isTimeZone } from './time.ts';

/**
 * The canonical reservation: what every PMS adapter normalises to and what sync
 * drives every target toward. Stay dates are local to the property; the time zone
 * comes from the property config (or the PMS, when it sends one).
 */

export const reservationStatuses = [
  'confirmed',
  'checked_in',
  'checked_out',
  'cancelled',
  // Kinds that carry no guest stay: a guest created earlier must be removed.
  'tentative', // a hold, pending approval or awaiting payment
  'inquiry',
  'declined',
  'expired',
  'owner_block',
] as const;
export const ReservationStatus = z.enum(reservationStatuses);
export type ReservationStatus = z.infer<typeof ReservationStatus>;

const statusesWithGuestStay: ReadonlySet<ReservationStatus> = new Set(['confirmed', 'checked_in', 'checked_out']);

/** True when the reservation means a guest will (or did) stay, so targets should hold a guest. */
export function hasGuestStay(status: ReservationStatus): boolean {
  return statusesWithGuestStay.has(status);
}

/**
 * Bounds of the canonical model (README "Bounds"). Ingest fits every reservation inside them
 * (bounds.ts) before queueing, and this schema, which sync parses, enforces them, so whatever
 * ingest accepts sync can carry: a queue message stays far below SQS's 256 KB and a stored
 * item below DynamoDB's 400 KB whatever the PMS sent.
 */
export const LIMITS = {
  /** Reservation, property and unit ids, in UTF-16 units. */
  idLength: 200,
  /** Each of first, last and full name. */
  nameLength: 200,
  /** RFC 5321's longest address. */
  emailLength: 254,
  /** E.164 is at most 16 characters; generous for anything a target might echo. */
  phoneLength: 32,
  /** The PMS status as sent, and other short free text. */
  textLength: 100,
  /** Party counts above this are not a party. */
  partyMax: 500,
  /** Stay dates must fall in this window (inclusive). */
  earliestDate: '2000-01-01',
  latestDate: '2099-12-31',
  /** The longest stay any config may allow (config `maxStayNights`, 400 by default). */
  maxStayNightsCeiling: 3660,
  /** Dropped-field records kept per reservation. */
  droppedEntries: 20,
} as const;

const carriableText = (max: number) =>
  z.string().check(z.maxLength(max), z.refine(isCarriable, 'holds characters that cannot be carried (U+FFFE, U+FFFF or an unpaired surrogate)'));
export const ReservationId = carriableText(LIMITS.idLength).check(z.minLength(1));

const localDate = z.iso
  .date().check(z.refine((date) => date >= LIMITS.earliestDate && date <= LIMITS.latestDate, `expected a date from ${LIMITS.earliestDate} to ${LIMITS.latestDate}`));
const localTime = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time HH:MM'));
export const TimeZone = z.string().check(z.refine(isTimeZone, 'expected an IANA time zone such as "Europe/Stockholm"'));

/** Whole nights between two local dates (YYYY-MM-DD). */
export function nightsBetween(checkInDate: string, checkOutDate: string): number {
  return Math.round((utcDay(checkOutDate) - utcDay(checkInDate)) / 86_400_000);
}

/** Midnight UTC of a YYYY-MM-DD date, from its digits: twice per webhook, and parsing a date string is slower. */
function utcDay(date: string): number {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7)) - 1;
  const day = Number(date.slice(8, 10));
  // Date.UTC reads years 0-99 as 1900-1999.
  return year < 100 ? new Date(0).setUTCFullYear(year, month, day) : Date.UTC(year, month, day);
}

export const Stay = z
  .object({
    checkInDate: localDate,
    checkOutDate: localDate,
    /** Local times; null means "use the property's default". */
    checkInTime: z.nullable(localTime),
    checkOutTime: z.nullable(localTime),
    /** IANA zone the PMS sent, if any; the property config's zone wins when both exist. */
    timeZone: z.nullable(TimeZone),
  })
  .check(
    z.refine((stay) => stay.checkOutDate >= stay.checkInDate, { message: 'the check-out date is before the check-in date', path: ['checkOutDate'] }),
    z.refine((stay) => nightsBetween(stay.checkInDate, stay.checkOutDate) <= LIMITS.maxStayNightsCeiling, {
      message: `the stay is longer than ${LIMITS.maxStayNightsCeiling} nights`,
      path: ['checkOutDate'],
    }),
  );
export type Stay = z.infer<typeof Stay>;

export const Guest = z.object({
  firstName: z.nullable(carriableText(LIMITS.nameLength)),
  lastName: z.nullable(carriableText(LIMITS.nameLength)),
  fullName: z.nullable(carriableText(LIMITS.nameLength)),
  email: z.nullable(carriableText(LIMITS.emailLength)),
  /** E.164, or null when absent or unparseable. */
  phone: z.nullable(carriableText(LIMITS.phoneLength)),
  /** ISO 639-1 */
  language: z.nullable(z.string().check(z.regex(/^[a-z]{2}$/))),
  /** ISO 3166-1 alpha-2 */
  country: z.nullable(z.string().check(z.regex(/^[A-Z]{2}$/))),
});
export type Guest = z.infer<typeof Guest>;

const partyCount = z.int().check(z.gte(0), z.lte(LIMITS.partyMax));

/** Who is in the party, where the PMS says; null where it does not. */
export const Party = z.object({
  adults: z.nullable(partyCount),
  children: z.nullable(partyCount),
  infants: z.nullable(partyCount),
});
export type Party = z.infer<typeof Party>;
export const unknownParty: Party = { adults: null, children: null, infants: null };

/** The party's size from its split, when the PMS sends only that; null when it sends none. */
export function sumOf(party: Party): number | null {
  const parts = [party.adults, party.children, party.infants].filter((n): n is number => n !== null);
  return parts.length === 0 ? null : parts.reduce((a, b) => a + b, 0);
}

/** An optional field that was present but unusable, so it was left out or cut (never its value). */
export const DroppedField = z.object({
  field: z.string().check(z.maxLength(LIMITS.textLength)),
  reason: z.string().check(z.maxLength(LIMITS.textLength)),
});
export type DroppedField = z.infer<typeof DroppedField>;

export const Reservation = z.object({
  source: z.string().check(z.minLength(1), z.maxLength(32)),
  connectionId: z.string().check(z.minLength(1), z.maxLength(64)),
  reservationId: ReservationId,
  propertyId: ReservationId,
  unitId: z.nullable(ReservationId),
  status: ReservationStatus,
  /** The PMS status as sent, for operators. */
  sourceStatus: carriableText(LIMITS.textLength),
  stay: Stay,
  guest: Guest,
  /** The whole party: the PMS's total, or the sum of `party` when it sends only the split. */
  partySize: z.nullable(partyCount),
  /** Adults, children and infants (schema v2; null each in messages of v1). */
  party: Party,
  /** Monotonic per reservation: epoch ms of the PMS's updated-at, or its version counter. */
  sourceVersion: z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER)),
  dropped: z.array(DroppedField).check(z.maxLength(LIMITS.droppedEntries)),
});
export type Reservation = z.infer<typeof Reservation>;

export const emptyGuest: Guest = {
  firstName: null,
  lastName: null,
  fullName: null,
  email: null,
  phone: null,
  language: null,
  country: null,
};

/** The guest's display name, built from whatever parts the PMS sent. */
export function displayName(guest: Guest): string | null {
  const joined = [guest.firstName, guest.lastName].filter((p): p is string => !!p && p.trim() !== '').join(' ');
  const name = (guest.fullName?.trim() || joined).replace(/\s+/g, ' ').trim();
  return name === '' ? null : name;
}

/**
 * A reservation of ids only, no guest and no stay of its own: what a removal call is given when
 * the snapshot is gone (erasure's retries, offboarding), since removing needs only the ids.
 */
export function idsOnlyReservation(key: { connectionId: string; reservationId: string }, propertyId: string | null, source: string): Reservation {
  return {
    source,
    connectionId: key.connectionId,
    reservationId: key.reservationId,
    propertyId: propertyId ?? 'unknown',
    unitId: null,
    status: 'cancelled',
    sourceStatus: source,
    stay: { checkInDate: LIMITS.earliestDate, checkOutDate: LIMITS.earliestDate, checkInTime: null, checkOutTime: null, timeZone: null },
    guest: emptyGuest,
    partySize: null,
    party: unknownParty,
    sourceVersion: 0,
    dropped: [],
  };
}
