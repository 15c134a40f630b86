import { sha256Hex } from '../core/hash.ts';
import type { Guest, Reservation } from '../core/reservation.ts';
import { localToEpochSeconds } from '../core/local-time.ts';
import type { PropertyConfig } from '../core/config.ts';

/**
 * What every target adapter does to guest fields before sending them: phones in E.164 (as the
 * sources normalised them), ISO 3166-1 alpha-2 countries, ISO 639-1 languages, names split or
 * joined as the API wants. A value the target would reject is left out and recorded as a
 * warning (`dropped:<field>:<reason>`), never sent.
 */

export class Warnings {
  readonly list: string[] = [];
  drop(field: string, reason: string): null {
    this.list.push(`dropped:${field}:${reason}`);
    return null;
  }
}

/** E.164's shape: a plus, a country code and at most 15 digits in all. */
const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * The guest's phone in E.164. Every source normalises it with libphonenumber-js when it reads a
 * reservation (core/contact.ts: the property's country as the default region, else the guest's;
 * an invalid one dropped), so a target sends it as it is and leaves out anything else. Sync
 * therefore loads no phone metadata (121 K) on a cold start.
 */
export function phoneE164(guest: Guest, warnings: Warnings, field = 'phone'): string | null {
  if (!guest.phone) return null;
  return E164.test(guest.phone) ? guest.phone : warnings.drop(field, 'invalid_phone');
}

// Made on first use: the first Intl.DisplayNames loads ICU's display-name data, about 20 ms of a
// cold start, and most guests carry no country or language.
let regionNames: Intl.DisplayNames | undefined;
let languageNames: Intl.DisplayNames | undefined;
/** Codes CLDR knows as regions that are not countries in ISO 3166-1. */
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'XA', 'XB', 'ZZ', 'XK']);

export function isoCountry(code: string | null, warnings: Warnings, field = 'country'): string | null {
  if (!code) return null;
  const upper = code.trim().toUpperCase();
  if (/^[A-Z]{2}$/.test(upper) && !NOT_COUNTRIES.has(upper) && (regionNames ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' })).of(upper) !== undefined) return upper;
  return warnings.drop(field, 'not_iso_3166_alpha2');
}

export function isoLanguage(code: string | null, warnings: Warnings, field = 'language'): string | null {
  if (!code) return null;
  const lower = code.trim().toLowerCase();
  if (/^[a-z]{2}$/.test(lower) && (languageNames ??= new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' })).of(lower) !== undefined) return lower;
  return warnings.drop(field, 'not_iso_639_1');
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function email(guest: Guest, warnings: Warnings, field = 'email'): string | null {
  if (!guest.email) return null;
  return EMAIL.test(guest.email) ? guest.email : warnings.drop(field, 'invalid_email');
}

/** First and last name for APIs that want them apart: a lone full name is split at its last space. */
export function splitName(guest: Guest): { first: string | null; last: string | null } {
  const first = guest.firstName?.trim() || null;
  const last = guest.lastName?.trim() || null;
  if (first || last) return { first, last };
  const full = guest.fullName?.replace(/\s+/g, ' ').trim();
  if (!full) return { first: null, last: null };
  const at = full.lastIndexOf(' ');
  return at < 0 ? { first: null, last: full } : { first: full.slice(0, at), last: full.slice(at + 1) };
}

/** Cuts a value to a target's length limit (recorded), rather than having the whole record refused. */
export function limit(value: string | null, max: number, field: string, warnings: Warnings): string | null {
  if (value === null || value.length <= max) return value;
  warnings.list.push(`truncated:${field}`);
  return value.slice(0, max);
}

/** Epoch ms of the stay's start and end at the property (its zone and default times; DST included). */
export function stayInstants(reservation: Reservation, property: PropertyConfig): { startsAt: number; endsAt: number } {
  const { stay } = reservation;
  return {
    startsAt: localToEpochSeconds(stay.checkInDate, stay.checkInTime ?? property.checkInTime, property.timeZone) * 1000,
    endsAt: localToEpochSeconds(stay.checkOutDate, stay.checkOutTime ?? property.checkOutTime, property.timeZone) * 1000,
  };
}

/**
 * The `Idempotency-Key` for one call: derived from the reservation (and its snapshot version),
 * the target, the operation and the body's fingerprint, so a retry of the same call sends the
 * same key, and a different call (other content, or the same content again after a change in
 * between, which comes with a newer snapshot) never reuses one.
 */
export function idempotencyHash(reservation: Reservation, target: string, operation: string, bodyFingerprint: string): string {
  return sha256Hex([reservation.connectionId, reservation.reservationId, target, operation, String(reservation.sourceVersion), bodyFingerprint].join('\n'));
}

/** A UUID v4-shaped id from a hex hash: version nibble 4, variant bits 10. */
export function uuidV4FromHash(hex: string): string {
  const h = hex.slice(0, 32).split('');
  h[12] = '4';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** The local dates of each night of a stay: check-in date up to the day before check-out. */
export function nightsOf(checkInDate: string, checkOutDate: string): string[] {
  const nights: string[] = [];
  for (let day = Date.parse(`${checkInDate}T00:00:00Z`); day < Date.parse(`${checkOutDate}T00:00:00Z`); day += 86_400_000) {
    nights.push(new Date(day).toISOString().slice(0, 10));
  }
  return nights;
}

/**
 * Adults, children and infants for a target's fields: the PMS's split where it sends one,
 * else the whole party as adults (the party size is only the fallback). Null: unknown.
 */
export function partyOf(reservation: Reservation): { adults: number | null; children: number | null; infants: number | null } {
  const { party, partySize } = reservation;
  if (party.adults !== null || party.children !== null || party.infants !== null) return party;
  return { adults: partySize, children: null, infants: null };
}

/**
 * The rule for adopting a record guest-sync did not create (docs/targets.md): it is the same
 * guest only when its full name is ours, compared after Unicode normalisation, case folding and
 * whitespace collapsing. A shared email (a family, a booking agent) is not enough.
 */
export function sameGuestName(a: { first: string | null | undefined; last: string | null | undefined }, b: { first: string | null | undefined; last: string | null | undefined }): boolean {
  const full = (n: { first: string | null | undefined; last: string | null | undefined }) => comparableName(`${n.first ?? ''} ${n.last ?? ''}`);
  const left = full(a);
  return left !== '' && left === full(b);
}

/** A name as the adopt rule compares it. */
export function comparableName(name: string): string {
  return name.normalize('NFKC').replace(/\s+/g, ' ').trim().toLocaleLowerCase('und');
}
