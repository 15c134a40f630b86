import type { PmsType } from '../core/config.ts';
import type { Fetcher, FetcherFactory } from './fetcher.ts';
import type { Source } from './source.ts';

// Loaded on a connection's first delivery: an ingest instance serves few PMSs, and building the
// schemas of all ten at cold start was a third of its module evaluation.

/**
 * Loads a module once; later calls get the same promise (no module resolution per delivery).
 * Marked free of side effects, so a bundle that never reads `sources` (sync) leaves the ten
 * parsers out, as ingest leaves out the fetchers.
 */
/* @__NO_SIDE_EFFECTS__ */
function once(load: () => Promise<Source>): () => Promise<Source> {
  let loaded: Promise<Source> | undefined;
  return () => (loaded ??= load());
}

/**
 * A fetcher whose code loads on its first use, so a sync worker's cold start builds no PMS
 * reader (and no source schemas) it does not call. `has` names the optional methods the real
 * one has, so callers see the same shape. Marked free of side effects, so a bundle that never
 * reads the fetchers (ingest) leaves them out.
 */
/* @__NO_SIDE_EFFECTS__ */
function lazyFetcher(load: () => Promise<FetcherFactory>, has: { clientReservations?: true; credentials?: true; list?: true }): FetcherFactory {
  return (connectionId, connection, deps) => {
    let real: Promise<Fetcher> | undefined;
    const get = () => (real ??= load().then((factory) => factory(connectionId, connection, deps)));
    const fetcher: Fetcher = { fetchReservation: async (ref, stored) => (await get()).fetchReservation(ref, stored) };
    if (has.clientReservations) fetcher.fetchClientReservations = async (ref) => (await get()).fetchClientReservations!(ref);
    if (has.credentials) fetcher.checkCredentials = async () => (await get()).checkCredentials!();
    if (has.list) fetcher.listReservations = async (query) => (await get()).listReservations!(query);
    return fetcher;
  };
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

/** One line per PMS whose thin events the sync worker completes or re-reads from its API (see fetcher.ts), loaded on first use. */
export const fetcherFactories: Partial<Record<PmsType, FetcherFactory>> = {
  // Only with the connection's optional `api`: Hostaway's webhooks carry the whole reservation.
  hostaway: lazyFetcher(async () => (await import('./hostaway-api.ts')).createHostawayFetcher, { credentials: true, list: true }),
  guesty: lazyFetcher(async () => (await import('./guesty-api.ts')).createGuestyFetcher, { list: true }),
  smily: lazyFetcher(async () => (await import('./smily-api.ts')).createSmilyFetcher, { clientReservations: true, credentials: true, list: true }),
  lodgify: lazyFetcher(async () => (await import('./lodgify-api.ts')).createLodgifyFetcher, { credentials: true, list: true }),
  hospitable: lazyFetcher(async () => (await import('./hospitable-api.ts')).createHospitableFetcher, { credentials: true, list: true }),
  smoobu: lazyFetcher(async () => (await import('./smoobu-api.ts')).createSmoobuFetcher, { credentials: true, list: true }),
  apaleo: lazyFetcher(async () => (await import('./apaleo-api.ts')).createApaleoFetcher, { credentials: true, list: true }),
  mews: lazyFetcher(async () => (await import('./mews-api.ts')).createMewsFetcher, { clientReservations: true, credentials: true, list: true }),
  cloudbeds: lazyFetcher(async () => (await import('./cloudbeds-api.ts')).createCloudbedsFetcher, { credentials: true, list: true }),
};
