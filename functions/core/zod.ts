import { config } from 'zod/mini';
import { en } from 'zod/locales';

/**
 * zod as the functions use it: `zod/mini`, whose schemas are plain functions (`z.optional(s)`,
 * `s.check(z.minLength(1))`), with the English messages that classic `zod` sets up by itself.
 * Classic attaches its methods through a larger module that every cold start evaluated (about
 * 9 ms) and builds each schema more slowly (docs/throughput.md, "Cold start"). Every module of
 * `functions/` imports zod from here, so no parse runs before the messages are set.
 */
config(en());

export * from 'zod/mini';
