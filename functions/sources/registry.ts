import type { PmsType } from '../core/config.ts';
import type { Source } from './source.ts';

// Loaded on a connection's first delivery: an ingest instance serves few PMSs, and building the
// schemas of all ten at cold start was a third of its module evaluation.

/**
 * Loads a module once; later calls get the same promise (no module resolution per delivery).
 * Marked free of side effects, so a bundle that never reads `sources` (sync) leaves the ten
 * parsers out. The fetchers have their own registry (fetcher-registry.ts): esbuild makes a chunk
 * of every `import()` it meets, even in code it leaves out, and each one splits the code the
 * function does load into more files (docs/throughput.md, "Cold start").
 */
/* @__NO_SIDE_EFFECTS__ */
function once(load: () => Promise<Source>): () => Promise<Source> {
  let loaded: Promise<Source> | undefined;
  return () => (loaded ??= load());
}

/** One line per PMS. */
export const sources: Record<PmsType, () => Promise<Source>> = {
  hostaway: once(async () => (await import('./hostaway.ts')).hostaway),
  generic: once(async () => (await import('./generic.ts')).generic),
  guesty: once(async () => (await import('./guesty.ts')).guesty),
  smily: once(async () => (await import('./smily.ts')).smily),
  lodgify: once(async () => (await import('./lodgify.ts')).lodgify),
  hospitable: once(async () => (await import('./hospitable.ts')).hospitable),
  smoobu: once(async () => (await import('./smoobu.ts')).smoobu),
  apaleo: once(async () => (await import('./apaleo.ts')).apaleo),
  mews: once(async () => (await import('./mews.ts')).mews),
  cloudbeds: once(async () => (await import('./cloudbeds.ts')).cloudbeds),
};
