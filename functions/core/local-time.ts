import { DateTime } from 'luxon';

// Placing a property's local times in UTC, for the targets (sync only: ingest never needs it, so
// its bundle leaves luxon out). Zone checks and instants to local times are in time.ts.

/**
 * Turns a local date and time at a property into a UTC instant such as
 * `2026-06-01T15:00:00Z`. Luxon applies the zone's rules for that day, so DST is
 * honoured; a local time that does not exist (spring-forward gap) moves forward.
 */
export function localToInstant(date: string, time: string, timeZone: string): string {
  const local = DateTime.fromISO(`${date}T${time}`, { zone: timeZone });
  if (!local.isValid) throw new Error(`cannot place ${date} ${time} in ${timeZone}: ${local.invalidExplanation ?? 'invalid'}`);
  return local.toUTC().toISO({ suppressMilliseconds: true })!;
}

/** Epoch seconds of a local date and time at a property. */
export function localToEpochSeconds(date: string, time: string, timeZone: string): number {
  return Math.floor(Date.parse(localToInstant(date, time, timeZone)) / 1000);
}
