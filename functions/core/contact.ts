import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import * as z from './zod.ts';
import type { DroppedField } from './reservation.ts';

/**
 * Optional contact fields: a bad one is dropped and recorded (never its value), never a
 * reason to reject the reservation.
 */
export interface Normalised<T> {
  value: T | null;
  dropped?: DroppedField;
}

export function normalisePhone(raw: unknown, field: string, defaultCountry?: string | null): Normalised<string> {
  if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return { value: null };
  if (typeof raw !== 'string' && typeof raw !== 'number') return { value: null, dropped: { field, reason: 'not_a_string' } };
  const country = defaultCountry && /^[A-Z]{2}$/.test(defaultCountry) ? (defaultCountry as CountryCode) : undefined;
  const parsed = parsePhoneNumberFromString(String(raw), country ? { defaultCountry: country } : undefined);
  if (!parsed || !parsed.isValid()) return { value: null, dropped: { field, reason: 'invalid_phone' } };
  return { value: parsed.number };
}

const emailSchema = z.email();

export function normaliseEmail(raw: unknown, field: string): Normalised<string> {
  if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return { value: null };
  const parsed = emailSchema.safeParse(typeof raw === 'string' ? raw.trim() : raw);
  if (!parsed.success) return { value: null, dropped: { field, reason: 'invalid_email' } };
  return { value: parsed.data };
}

export function normaliseCountry(raw: unknown): string | null {
  return typeof raw === 'string' && /^[a-zA-Z]{2}$/.test(raw.trim()) ? raw.trim().toUpperCase() : null;
}

export function normaliseLanguage(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const match = /^([a-zA-Z]{2})(?:[-_].*)?$/.exec(raw.trim());
  return match ? match[1]!.toLowerCase() : null;
}

/** Trimmed non-empty string, or null. */
export function text(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const trimmed = raw.replace(/\s+/g, ' ').trim();
  return trimmed === '' ? null : trimmed;
}

/**
 * A guest's email, phone and country as every source reads them: a bad email or phone is
 * dropped and recorded. Phones without a country code are read in the property's country,
 * else the guest's.
 */
export function normaliseContact(raw: { email: unknown; phone: unknown; country: unknown }, propertyCountry?: string | null): {
  email: string | null;
  phone: string | null;
  country: string | null;
  dropped: DroppedField[];
} {
  const country = normaliseCountry(raw.country);
  const email = normaliseEmail(raw.email, 'guest.email');
  const phone = normalisePhone(raw.phone, 'guest.phone', propertyCountry ?? country);
  const dropped = [email.dropped, phone.dropped].filter((d): d is DroppedField => d !== undefined);
  return { email: email.value, phone: phone.value, country, dropped };
}
