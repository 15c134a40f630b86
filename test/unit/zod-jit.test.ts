import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { PARSED_ONCE, WARM_UP_PARSES, hotParse } from '../../functions/core/zod-jit.ts';
import { compiledDuring } from '../support/compiled-functions.ts';

describe("zod's JIT on the ingest hot path", () => {
  it('leaves a per-request schema interpreted while the process is cold, and compiles it once the process is busy', () => {
    const stay = z.object({ checkInDate: z.iso.date(), nights: z.number().int() });
    const cold = compiledDuring(() => {
      for (let i = 0; i < WARM_UP_PARSES; i++) expect(stay.safeParse({ checkInDate: '2026-07-10', nights: i }, hotParse()).success).toBe(true);
    });
    expect(cold).toBe(0);
    // Compiled once, then reused; the answers are the same.
    expect(compiledDuring(() => expect(stay.safeParse({ checkInDate: '2026-07-10', nights: 3 }, hotParse()).success).toBe(true))).toBe(1);
    expect(compiledDuring(() => expect(stay.safeParse({ checkInDate: '2026-02-30', nights: 3 }, hotParse()).success).toBe(false))).toBe(0);
  });

  it('never compiles what a process parses once', () => {
    const secret = z.object({ username: z.string(), password: z.string() });
    expect(compiledDuring(() => expect(secret.safeParse({ username: 'u', password: 'p' }, PARSED_ONCE).success).toBe(true))).toBe(0);
  });
});
