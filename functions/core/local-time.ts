import { instantToLocal, isCanonicalTimeZone, isTimeZone, isUtcName } from './time.ts';

// Placing a property's local times in UTC, for the targets (sync only). Zone checks and instants
// to local times are in time.ts.

/**
 * Turns a local date (YYYY-MM-DD) and time (HH:MM) at a property into a UTC instant such as
 * `2026-06-01T15:00:00Z`, with the zone's rules for that day, so DST is honoured. A local time
 * that does not exist (the spring-forward gap) moves forward by the gap; one that happens twice
 * (the autumn change) is its first occurrence. test/unit/time.test.ts checks this against luxon
 * for every zone this runtime knows.
 */
export function localToInstant(date: string, time: string, timeZone: string): string {
  const key = `${date}T${time} ${timeZone}`;
  let instant = placed.get(key);
  if (instant === undefined) {
    if (placed.size >= 256) placed.clear();
    instant = place(date, time, timeZone);
    placed.set(key, instant);
  }
  return instant;
}

// A message places the same checkout for several targets and its retention; each placing
// switches the process's zone twice (about 35 µs). Only successes are kept.
const placed = new Map<string, string>();

function place(date: string, time: string, timeZone: string): string {
  const local = LOCAL.exec(`${date}T${time}`);
  const utcOfLocal = local ? Date.UTC(Number(local[1]), Number(local[2]) - 1, Number(local[3]), Number(local[4]), Number(local[5])) : Number.NaN;
  // Date.UTC rolls 30 February over to March; a date that does not round-trip does not exist.
  if (!Number.isFinite(utcOfLocal) || new Date(utcOfLocal).toISOString().slice(0, 16) !== `${date}T${time}`) throw new Error(`cannot place ${date} ${time} in ${timeZone}: not a local date and time`);
  if (!isTimeZone(timeZone)) throw new Error(`cannot place ${date} ${time} in ${timeZone}: unknown time zone`);
  const ms = isUtcName(timeZone) ? utcOfLocal : isCanonicalTimeZone(timeZone) && !/[\d,]/.test(timeZone) ? withProcessZone(utcOfLocal, timeZone) : withFormatter(utcOfLocal, timeZone);
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** Epoch seconds of a local date and time at a property. */
export function localToEpochSeconds(date: string, time: string, timeZone: string): number {
  return Math.floor(Date.parse(localToInstant(date, time, timeZone)) / 1000);
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/**
 * V8 places a local time with ICU's zone rules for the process's TZ, which Node lets a process
 * change at run time. That costs a fraction of a millisecond, where the first Intl.DateTimeFormat
 * loads ICU's formatting data: about 20 ms of sync's cold start. Only for names in the runtime's
 * canonical list: V8 reads any name it does not know as UTC, without an error; and none with a
 * digit or a comma, which ICU takes for a POSIX rule such as "CST6CDT" (none is canonical today,
 * but "Etc/GMT+12" style names would be). Nothing else runs between the two assignments (no
 * await), and the process's own TZ is put back.
 */
function withProcessZone(utcOfLocal: number, timeZone: string): number {
  const own = process.env.TZ;
  process.env.TZ = timeZone;
  try {
    const at = new Date(utcOfLocal);
    return new Date(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), at.getUTCHours(), at.getUTCMinutes()).getTime();
  } finally {
    if (own === undefined) delete process.env.TZ;
    else process.env.TZ = own;
  }
}

/**
 * For aliases and offsets ("US/Eastern", "+01:00"): the zone's offsets a day before and a day
 * after (a zone changes at most once in two days), each tried. Both fit in the hour that happens
 * twice: the first occurrence. Neither fits in a gap: the offset before the change, which
 * places the time after the gap.
 */
function withFormatter(utcOfLocal: number, timeZone: string): number {
  const offsetAt = (ms: number) => {
    const { date, time } = instantToLocal(new Date(ms).toISOString(), timeZone);
    return Date.parse(`${date}T${time}:00Z`) - (ms - (ms % 60_000));
  };
  const before = offsetAt(utcOfLocal - DAY_MS);
  const after = offsetAt(utcOfLocal + DAY_MS);
  const fits = [before, after].map((offset) => utcOfLocal - offset).filter((ms) => offsetAt(ms) === utcOfLocal - ms);
  return fits.length > 0 ? Math.min(...fits) : utcOfLocal - before;
}

const DAY_MS = 86_400_000;
