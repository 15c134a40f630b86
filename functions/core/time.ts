/** True for a zone this runtime can place times in (IANA names such as "Europe/Stockholm", or "UTC"). */
export function isTimeZone(zone: string): boolean {
  if (zone === '' || zone.length > 64) return false;
  if (knownZones.has(zone) || isUtcName(zone)) return true;
  // The canonical names come cheap (about 2 ms once); the first DateTimeFormat with a zone loads
  // ICU's zone data (about 20 ms of a cold start), so only aliases ("US/Eastern") pay it.
  if (isCanonicalTimeZone(zone)) {
    knownZones.add(zone);
    return true;
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone }); // costly: a sixth of the ingest hot path uncached
  } catch {
    return false;
  }
  // Only valid zones are remembered, so the set stays as small as the IANA database.
  knownZones.add(zone);
  return true;
}
const knownZones = new Set<string>();
let canonicalZones: Set<string> | undefined;

/** True for a zone in the runtime's list of canonical IANA names (not an alias, link or offset). */
export function isCanonicalTimeZone(zone: string): boolean {
  return (canonicalZones ??= new Set(Intl.supportedValuesOf('timeZone'))).has(zone);
}

/** The usual names of UTC, which the canonical list leaves out; known without asking ICU. */
export function isUtcName(zone: string): boolean {
  return UTC_NAMES.has(zone);
}
const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT']);

/**
 * The local calendar date and HH:MM time of an instant (ISO 8601 with `Z` or an offset, as the
 * sources' schemas require) at a property. One cached Intl formatter per zone: luxon computed
 * the zone's offset with several formatToParts() per call, a fifth of the ingest hot path of PMSs
 * that send instants, and ingest no longer bundles luxon at all.
 */
export function instantToLocal(instant: string, timeZone: string): { date: string; time: string } {
  const ms = WITH_OFFSET.test(instant) ? Date.parse(instant) : Number.NaN;
  const formatter = Number.isFinite(ms) ? zonedFormatter(timeZone) : undefined;
  if (!formatter) throw new Error(`invalid instant ${instant}`);
  // Swedish formats as "2026-07-10 15:00"; format() is a third of formatToParts()' cost. Checked, in
  // case an ICU release ever writes it otherwise.
  const formatted = LOCAL_FORMAT.exec(formatter.format(ms));
  if (formatted) return { date: formatted[1]!, time: formatted[2]! };
  const parts: Record<string, string> = {};
  for (const { type, value } of formatter.formatToParts(ms)) parts[type] = value;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const LOCAL_FORMAT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Undefined for a zone Intl does not know. */
function zonedFormatter(timeZone: string): Intl.DateTimeFormat | undefined {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('sv-SE', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    } catch {
      return undefined;
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** An hour 0–23 as the PMS sends it (Hostaway) to HH:MM. */
export function hourToLocalTime(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}

/** A calendar date (YYYY-MM-DD) `days` later (or earlier); plain calendar arithmetic, no zone. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The UTC calendar date (YYYY-MM-DD) of an instant in epoch ms. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
