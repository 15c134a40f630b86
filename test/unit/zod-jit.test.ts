import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import { IngestMessage, QUEUE_SCHEMA_VERSION } from '../../functions/core/queue.ts';
import { Stay } from '../../functions/core/reservation.ts';
import * as z from '../../functions/core/zod.ts';
import { WARM_UP_PARSES, compileHotParsers, hotParse } from '../../functions/core/zod-jit.ts';
import { compiledDuring } from '../support/compiled-functions.ts';
import { aReservation } from '../support/reservation.ts';
import { withValueAt } from '../support/with-value-at.ts';

const validMessage = {
  v: QUEUE_SCHEMA_VERSION,
  kind: 'reservation',
  connectionId: 'generic-demo',
  deliveryId: 'msg_1',
  receivedAt: 1,
  reservation: aReservation({ guest: { firstName: 'Ana', lastName: 'Silva', fullName: null, email: 'ana@example.com', phone: '+46701234567', language: 'sv', country: 'SE' } }),
};

/** Every path to a value in `value`, objects and arrays included. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [prefix, ...keys.flatMap((key) => pathsOf((value as Record<string | number, unknown>)[key], [...prefix, key]))];
}

const compiledClones = new Map<z.ZodMiniType, z.ZodMiniType>();

/** The compiled clone gives the very answer the interpreted schema gives: the value, or the same issues. */
function expectSameAnswer(schema: z.ZodMiniType, input: unknown): void {
  const interpreted = schema.safeParse(input);
  if (!compiledClones.has(schema)) compiledClones.set(schema, z.compile(schema, { strict: true })); // strict: throws rather than not compiling
  const compiled = compiledClones.get(schema)!.safeParse(input);
  expect(compiled.success).toBe(interpreted.success);
  if (interpreted.success) expect(compiled.data).toEqual(interpreted.data);
  else expect(compiled.error?.issues).toEqual(interpreted.error.issues);
}

// As ingest's handler does (handler-factory.ts).
compileHotParsers((schema) => z.compile(schema));

describe("zod's compiled parsers on the ingest hot path", () => {
  it('leaves a per-request schema interpreted while the process is cold, and compiles it once the process is busy', () => {
    const stay = z.object({ checkInDate: z.iso.date(), nights: z.int() });
    const cold = compiledDuring(() => {
      for (let i = 0; i < WARM_UP_PARSES; i++) expect(hotParse(stay, { checkInDate: '2026-07-10', nights: i }).success).toBe(true);
    });
    expect(cold).toBe(0);
    // Compiled once, then reused; the answers are the same.
    expect(compiledDuring(() => expect(hotParse(stay, { checkInDate: '2026-07-10', nights: 3 }).success).toBe(true))).toBeGreaterThan(0);
    expect(compiledDuring(() => expect(hotParse(stay, { checkInDate: '2026-02-30', nights: 3 })).toMatchObject({ success: false }))).toBe(0);
    expect(hotParse(stay, { checkInDate: '2026-07-10', nights: 1.5 }).error?.issues[0]?.message).toBe('Invalid input: expected int, received number');
  });

  it('never compiles what a process parses once, such as its config', () => {
    const config = { connections: {}, targets: {} };
    expect(compiledDuring(() => expect(parseConfig(config).retentionDays).toBe(30))).toBe(0);
  });

  it('compiles nothing where zod is jitless (sync and the sweep)', () => {
    const schema = z.object({ id: z.string() });
    z.config({ jitless: true });
    try {
      expect(compiledDuring(() => expect(hotParse(schema, { id: 'a' }).success).toBe(true))).toBe(0);
    } finally {
      z.config({ jitless: false });
    }
  });

  it('answers as the interpreted schema does for the queue contract ingest checks and the stay, whatever a field holds', () => {
    expectSameAnswer(IngestMessage, validMessage);
    const paths = pathsOf(validMessage);
    const odd = fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.constant(''), fc.constant('2026-02-30'));
    fc.assert(
      fc.property(fc.nat(paths.length - 1), odd, fc.boolean(), (at, replacement, remove) => {
        expectSameAnswer(IngestMessage, withValueAt(validMessage, paths[at]!, replacement, remove));
      }),
      { numRuns: 400 },
    );
    const stay = validMessage.reservation.stay;
    for (const [checkInDate, checkOutDate] of [['2026-10-23', '2026-10-22'], ['2026-10-23', '2030-10-23'], ['2026-02-29', '2026-03-01'], ['0099-12-31', '0100-01-01']]) {
      expectSameAnswer(Stay, { ...stay, checkInDate, checkOutDate });
    }
  });
});
