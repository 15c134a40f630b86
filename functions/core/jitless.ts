import * as z from './zod.ts';

/**
 * Imported first by the sync and sweep handlers, before any schema is built (zod reads this when a
 * schema is constructed): their time goes to AWS and the targets rather than to zod, and a first
 * request parses many schemas once, each of which the JIT would compile (zod-jit.ts).
 */
z.config({ jitless: true });
