import { z } from 'zod';

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

const localDate = z.iso.date();
const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time HH:MM');

export const Stay = z.object({
  checkInDate: localDate,
  checkOutDate: localDate,
  /** Local times; null means "use the property's default". */
  checkInTime: localTime.nullable(),
  checkOutTime: localTime.nullable(),
  /** IANA zone the PMS sent, if any; the property config's zone wins when both exist. */
  timeZone: z.string().nullable(),
});
export type Stay = z.infer<typeof Stay>;

export const Guest = z.object({
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  fullName: z.string().nullable(),
  email: z.string().nullable(),
  /** E.164, or null when absent or unparseable. */
  phone: z.string().nullable(),
  /** ISO 639-1 */
  language: z.string().nullable(),
  /** ISO 3166-1 alpha-2 */
  country: z.string().nullable(),
});
export type Guest = z.infer<typeof Guest>;

/** An optional field that was present but unusable, so it was left out (never its value). */
export const DroppedField = z.object({
  field: z.string(),
  reason: z.string(),
});
export type DroppedField = z.infer<typeof DroppedField>;

export const Reservation = z.object({
  source: z.string(),
  connectionId: z.string(),
  reservationId: z.string().min(1),
  propertyId: z.string().min(1),
  unitId: z.string().nullable(),
  status: ReservationStatus,
  /** The PMS status as sent, for operators. */
  sourceStatus: z.string(),
  stay: Stay,
  guest: Guest,
  partySize: z.number().int().nonnegative().nullable(),
  /** Monotonic per reservation: epoch ms of the PMS's updated-at, or its version counter. */
  sourceVersion: z.number(),
  dropped: z.array(DroppedField),
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
