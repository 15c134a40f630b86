import { createHash, createHmac } from 'node:crypto';

export function sha256Hex(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('hex');
}

/** A stable fingerprint of a JSON value: key order does not matter. */
export function fingerprint(value: unknown): string {
  return sha256Hex(stableStringify(value)).slice(0, 32);
}

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/**
 * The keyed hash of a guest's email that snapshots carry, so `guest-sync erase --email` can find
 * the guest's reservations without the email being stored (or sent) for that purpose. Case and
 * surrounding spaces do not matter.
 */
export function emailHash(key: Uint8Array, email: string): string {
  return createHmac('sha256', key).update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
}
