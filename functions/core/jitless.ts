import * as z from './zod.ts';

/**
 * Imported first by the sync and sweep handlers: nothing they parse is ever compiled (`hotParse`
 * in zod-jit.ts reads this at each parse; zod/mini's objects have no JIT of their own). Their time
 * goes to AWS and the targets rather than to zod, and a first request parses many schemas once.
 */
z.config({ jitless: true });
