/**
 * Zod's JIT compiles an object schema with `new Function` on its first parse (about a millisecond
 * each) and parses it faster from then on: ingest's hot path is about a tenth faster with it
 * (bench: ingest hot path). Ingest keeps zod's default (on), and its per-request parses pass
 * `hotParse()`: interpreted for a process's first WARM_UP_PARSES, so that a cold start compiles
 * nothing, compiled once the process is busy. Sync and the sweep turn it off (jitless.ts).
 */
export const WARM_UP_PARSES = 500;

const INTERPRETED = { jitless: true } as const;
let parses = 0;

/** The parse context of what a process parses once (its config, a secret): never worth compiling. */
export const PARSED_ONCE = INTERPRETED;

/** The parse context of a per-request parse: interpreted while the process is cold. */
export function hotParse(): typeof INTERPRETED | undefined {
  if (parses >= WARM_UP_PARSES) return undefined;
  parses++;
  return INTERPRETED;
}
