import * as z from './zod.ts';

/**
 * Ingest's per-request parses (the HTTP event, the PMS payload, the stay, the queue contract) go
 * through `hotParse`: interpreted for a process's first WARM_UP_PARSES, so that a cold start
 * compiles nothing, then through the schema's compiled clone (`z.compile`: one generated function
 * per schema, built with `new Function` once, about a millisecond). The clone falls back to the
 * interpreted parser for any input its fast path does not accept, so a failure has the same issues
 * and messages either way (test/unit/zod-jit.test.ts checks the answers agree). Nothing else is
 * ever compiled, and nothing at all where `z.config({ jitless: true })` is set (sync and the
 * sweep, jitless.ts).
 */
export const WARM_UP_PARSES = 500;

let parses = 0;
let compile: ((schema: z.ZodMiniType) => z.ZodMiniType) | undefined;
const compiled = new WeakMap<z.ZodMiniType, z.ZodMiniType>();

export function hotParse<T extends z.ZodMiniType>(schema: T, input: unknown): z.util.SafeParseResult<z.output<T>> {
  if (compile === undefined || parses < WARM_UP_PARSES || z.config().jitless) {
    parses++;
    return schema.safeParse(input);
  }
  let fast = compiled.get(schema) as T | undefined;
  if (fast === undefined) {
    fast = compile(schema) as T;
    compiled.set(schema, fast);
  }
  return fast.safeParse(input);
}

/**
 * Turns the compiled clones on: ingest's handler does (handler-factory.ts), with `z.compile`.
 * Sync and the sweep never do, so their bundles leave zod's compiler (29 K) out.
 */
export function compileHotParsers(compiler: (schema: z.ZodMiniType) => z.ZodMiniType): void {
  compile = compiler;
}
