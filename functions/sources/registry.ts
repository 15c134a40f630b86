import type { PmsType } from '../core/config.ts';
import type { FetcherFactory } from './fetcher.ts';
import { createApaleoFetcher } from './apaleo-api.ts';
import { createCloudbedsFetcher } from './cloudbeds-api.ts';
import { createGuestyFetcher } from './guesty-api.ts';
import { createHospitableFetcher } from './hospitable-api.ts';
import { createLodgifyFetcher } from './lodgify-api.ts';
import { createMewsFetcher } from './mews-api.ts';
import { createSmilyFetcher } from './smily-api.ts';
import { createSmoobuFetcher } from './smoobu-api.ts';
import type { Source } from './source.ts';

// Loaded on a connection's first delivery: an ingest instance serves few PMSs, and building the
// schemas of all ten at cold start was a third of its module evaluation.

/** One line per PMS. */
export const sources: Record<PmsType, () => Promise<Source>> = {
  hostaway: async () => (await import('./hostaway.ts')).hostaway,
  generic: async () => (await import('./generic.ts')).generic,
  guesty: async () => (await import('./guesty.ts')).guesty,
  smily: async () => (await import('./smily.ts')).smily,
  lodgify: async () => (await import('./lodgify.ts')).lodgify,
  hospitable: async () => (await import('./hospitable.ts')).hospitable,
  smoobu: async () => (await import('./smoobu.ts')).smoobu,
  apaleo: async () => (await import('./apaleo.ts')).apaleo,
  mews: async () => (await import('./mews.ts')).mews,
  cloudbeds: async () => (await import('./cloudbeds.ts')).cloudbeds,
};

/** One line per PMS whose thin events the sync worker completes or re-reads from its API (see fetcher.ts). */
export const fetcherFactories: Partial<Record<PmsType, FetcherFactory>> = {
  guesty: createGuestyFetcher,
  smily: createSmilyFetcher,
  lodgify: createLodgifyFetcher,
  hospitable: createHospitableFetcher,
  smoobu: createSmoobuFetcher,
  apaleo: createApaleoFetcher,
  mews: createMewsFetcher,
  cloudbeds: createCloudbedsFetcher,
};
