import type { PmsType } from '../core/config.ts';
import type { FetcherFactory } from './fetcher.ts';
import { apaleo } from './apaleo.ts';
import { createApaleoFetcher } from './apaleo-api.ts';
import { cloudbeds } from './cloudbeds.ts';
import { createCloudbedsFetcher } from './cloudbeds-api.ts';
import { generic } from './generic.ts';
import { guesty } from './guesty.ts';
import { createGuestyFetcher } from './guesty-api.ts';
import { hospitable } from './hospitable.ts';
import { createHospitableFetcher } from './hospitable-api.ts';
import { hostaway } from './hostaway.ts';
import { lodgify } from './lodgify.ts';
import { createLodgifyFetcher } from './lodgify-api.ts';
import { mews } from './mews.ts';
import { createMewsFetcher } from './mews-api.ts';
import { smily } from './smily.ts';
import { createSmilyFetcher } from './smily-api.ts';
import { smoobu } from './smoobu.ts';
import { createSmoobuFetcher } from './smoobu-api.ts';
import type { Source } from './source.ts';

/** One line per PMS. */
export const sources: Record<PmsType, Source> = {
  hostaway,
  generic,
  guesty,
  smily,
  lodgify,
  hospitable,
  smoobu,
  apaleo,
  mews,
  cloudbeds,
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
