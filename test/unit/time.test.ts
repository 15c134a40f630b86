import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { localToEpochSeconds, localToInstant } from '../../functions/core/local-time.ts';
import { addDays, instantToLocal, isTimeZone, utcDate } from '../../functions/core/time.ts';

describe('local stay times to instants', () => {
  it('uses the offset in force on each day across the autumn change', () => {
    expect(localToInstant('2026-10-24', '15:00', 'Europe/Stockholm')).toBe('2026-10-24T13:00:00Z');
    expect(localToInstant('2026-10-26', '11:00', 'Europe/Stockholm')).toBe('2026-10-26T10:00:00Z');
  });

  it('handles the spring change and zones west of UTC', () => {
    expect(localToInstant('2027-03-27', '15:00', 'Europe/Stockholm')).toBe('2027-03-27T14:00:00Z');
    expect(localToInstant('2027-03-29', '11:00', 'Europe/Stockholm')).toBe('2027-03-29T09:00:00Z');
    expect(localToInstant('2026-11-01', '16:00', 'America/New_York')).toBe('2026-11-01T21:00:00Z'); // EST from 02:00 that day
    expect(localToInstant('2026-10-31', '16:00', 'America/New_York')).toBe('2026-10-31T20:00:00Z');
  });

  it('moves a local time that does not exist (the spring-forward gap) forward', () => {
    expect(localToInstant('2027-03-28', '02:30', 'Europe/Stockholm')).toBe('2027-03-28T01:30:00Z');
  });

  it('gives epoch seconds and goes back to local dates', () => {
    expect(localToEpochSeconds('2026-07-14', '11:00', 'Europe/Stockholm')).toBe(Date.parse('2026-07-14T09:00:00Z') / 1000);
    expect(instantToLocal('2026-07-10T22:30:00Z', 'Europe/Stockholm')).toEqual({ date: '2026-07-11', time: '00:30' });
  });
});

describe('local stay times to instants, against luxon in every zone', () => {
  const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'US/Eastern', 'Asia/Calcutta', 'Europe/Kiev', 'Etc/GMT+12', '+05:30', '-03:00'];
  const DAY = 86_400_000;
  // What luxon's zone data says: each of the offsets a day either side that places the local time
  // back on itself; both in the hour that happens twice (the first is taken), none in a gap (the
  // offset before it is used, which moves the time forward).
  const expected = (date: string, time: string, zone: string) => {
    const offset = (ms: number) => IANAZone.isValidZone(zone) ? IANAZone.create(zone).offset(ms) * 60_000 : DateTime.fromMillis(ms, { zone }).offset * 60_000;
    const utcOfLocal = Date.parse(`${date}T${time}:00Z`);
    const before = offset(utcOfLocal - DAY);
    const fits = [before, offset(utcOfLocal + DAY)].map((o) => utcOfLocal - o).filter((ms) => offset(ms) === utcOfLocal - ms);
    const ms = fits.length > 0 ? Math.min(...fits) : utcOfLocal - before;
    if (fits.length === 1) expect(DateTime.fromISO(`${date}T${time}`, { zone }).toMillis()).toBe(ms); // luxon's own answer where there is one
    return `${new Date(ms).toISOString().slice(0, 19)}Z`;
  };
  const local = (ms: number) => ({ date: new Date(ms).toISOString().slice(0, 10), time: new Date(ms).toISOString().slice(11, 16) });

  it('agrees on every local time within 90 minutes of each change of 2026 and 2087, in every zone', () => {
    let changes = 0;
    for (const zone of zones) {
      const offset = (ms: number) => DateTime.fromMillis(ms, { zone }).offset;
      for (const year of [2026, 2087]) {
        let at = Date.UTC(year, 0, 1);
        const end = Date.UTC(year + 1, 0, 1);
        while (at < end) {
          const next = at + 7 * DAY;
          if (offset(at) !== offset(next)) {
            // The change to the minute, then the local wall times around it.
            let [lo, hi] = [at, next];
            while (hi - lo > 60_000) {
              const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
              if (offset(mid) === offset(lo)) lo = mid;
              else hi = mid;
            }
            changes++;
            for (let minutes = -90; minutes <= 90; minutes += 15) {
              const { date, time } = local(hi + offset(lo) * 60_000 + minutes * 60_000);
              expect(localToInstant(date, time, zone), `${date} ${time} ${zone}`).toBe(expected(date, time, zone));
            }
          }
          at = next;
        }
      }
    }
    expect(changes).toBeGreaterThan(200); // the scan found the year's changes
  });

  it('agrees on any date and time of the model, in any zone', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31, 23, 59) }), fc.constantFrom(...zones), (ms, zone) => {
        const { date, time } = local(ms - (ms % 60_000));
        expect(localToInstant(date, time, zone)).toBe(expected(date, time, zone));
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    [':UTC', 2031],
    ['America/Los_Angeles', 2032],
    [undefined, 2033],
  ])('gives the same instants and leaves the process in its own zone when it runs with TZ=%s (Lambda sets ":UTC")', (processZone, year) => {
    const own = process.env.TZ;
    try {
      if (processZone === undefined) delete process.env.TZ;
      else process.env.TZ = processZone;
      const offset = new Date(2026, 6, 1).getTimezoneOffset();
      // A year of its own per case, so no answer comes from the kept conversions.
      expect(localToInstant(`${year}-07-01`, '15:00', 'Europe/Berlin')).toBe(`${year}-07-01T13:00:00Z`);
      expect(localToInstant(`${year}-01-10`, '15:00', 'America/New_York')).toBe(`${year}-01-10T20:00:00Z`);
      expect(localToInstant(`${year}-07-01`, '12:00', 'Pacific/Kiritimati')).toBe(`${year}-06-30T22:00:00Z`);
      expect(process.env.TZ).toBe(processZone);
      expect(new Date(2026, 6, 1).getTimezoneOffset()).toBe(offset);
    } finally {
      if (own === undefined) delete process.env.TZ;
      else process.env.TZ = own;
    }
  });

  it.each([
    ['2026-02-30', '15:00', 'Europe/Stockholm', 'not a local date and time'],
    ['2026-07-10', '24:00', 'Europe/Stockholm', 'not a local date and time'],
    ['2026-07-10', '15:00', 'Mars/Olympus_Mons', 'unknown time zone'],
  ])('refuses %s %s in %s', (date, time, zone, message) => {
    expect(() => localToInstant(date, time, zone)).toThrow(message);
  });
});

describe('instants to local dates and times', () => {
  const zones = ['Europe/Stockholm', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns', 'UTC', 'Etc/GMT+12', 'Pacific/Kiritimati'];
  const luxon = (instant: string, zone: string) => {
    const local = DateTime.fromISO(instant, { zone: 'utc' }).setZone(zone);
    return { date: local.toISODate(), time: local.toFormat('HH:mm') };
  };

  it('agrees with luxon on any instant and offset, across DST changes and odd offsets', () => {
    const instants = fc.record({
      ms: fc.integer({ min: Date.parse('1990-01-01T00:00:00Z'), max: Date.parse('2060-12-31T23:59:59Z') }),
      offsetMinutes: fc.constantFrom(0, 60, -300, 330, 345, -570, 840),
      millis: fc.boolean(),
      zone: fc.constantFrom(...zones),
    });
    fc.assert(
      fc.property(instants, ({ ms, offsetMinutes, millis, zone }) => {
        const utc = DateTime.fromMillis(ms, { zone: 'utc' });
        const instant = offsetMinutes === 0 ? utc.toISO({ suppressMilliseconds: !millis })! : utc.setZone(`UTC${offsetMinutes > 0 ? '+' : '-'}${Math.floor(Math.abs(offsetMinutes) / 60)}:${String(Math.abs(offsetMinutes) % 60).padStart(2, '0')}`).toISO({ suppressMilliseconds: !millis })!;
        expect(instantToLocal(instant, zone)).toEqual(luxon(instant, zone));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['2026-03-29T00:59:59Z', 'Europe/Stockholm', { date: '2026-03-29', time: '01:59' }], // the last minute of winter time
    ['2026-03-29T01:00:00Z', 'Europe/Stockholm', { date: '2026-03-29', time: '03:00' }],
    ['2026-10-25T00:30:00Z', 'Europe/Stockholm', { date: '2026-10-25', time: '02:30' }], // the hour that repeats, first time
    ['2026-10-25T01:30:00Z', 'Europe/Stockholm', { date: '2026-10-25', time: '02:30' }], // and the second
    ['2026-07-10T22:30:00+02:00', 'UTC', { date: '2026-07-10', time: '20:30' }],
    ['2026-07-10T22:30:00+0200', 'UTC', { date: '2026-07-10', time: '20:30' }],
    ['2026-12-31T23:00Z', 'Pacific/Kiritimati', { date: '2027-01-01', time: '13:00' }],
  ])('%s in %s', (instant, zone, expected) => {
    expect(instantToLocal(instant, zone)).toEqual(expected);
  });

  it('still refuses what is not an instant or a zone', () => {
    expect(() => instantToLocal('not a time', 'Europe/Stockholm')).toThrow('invalid instant');
    expect(() => instantToLocal('2026-07-10T22:30:00Z', 'Mars/Olympus_Mons')).toThrow('invalid instant');
    // Without an offset it is not an instant (the sources' schemas refuse it before this).
    expect(() => instantToLocal('2026-07-10T22:30:00', 'UTC')).toThrow('invalid instant');
  });
});

describe('time zone names', () => {
  it.each([
    ['Europe/Stockholm', true], // canonical
    ['America/Argentina/Buenos_Aires', true],
    ['UTC', true], // aliases and links: ICU accepts them, they are not in the canonical list
    ['Etc/UTC', true],
    ['US/Eastern', true],
    ['Europe/Kyiv', true],
    ['Mars/Olympus_Mons', false],
    ['europe stockholm', false],
    ['', false],
    ['+01:00', true], // an offset is a zone to Intl and luxon
  ])('%s → %s', (zone, valid) => {
    expect(isTimeZone(zone)).toBe(valid);
    expect(isTimeZone(zone)).toBe(valid); // the cached answer is the same
  });
});

describe('calendar dates for list windows', () => {
  it.each([
    ['2026-12-31', 1, '2027-01-01'],
    ['2028-02-28', 1, '2028-02-29'],
    ['2026-03-29', 1, '2026-03-30'], // a DST change in Europe changes nothing: no zone
    ['2026-01-10', -10, '2025-12-31'],
    ['2026-12-01', 365, '2027-12-01'],
  ])('%s plus %i days is %s', (date, days, expected) => {
    expect(addDays(date, days)).toBe(expected);
  });
  it('gives the UTC date of an instant', () => {
    expect(utcDate(Date.parse('2026-12-01T23:59:59.999Z'))).toBe('2026-12-01');
    expect(utcDate(Date.parse('2026-12-01T00:00:00+02:00'))).toBe('2026-11-30');
  });
});
