import type { PmsType } from '../core/config.ts';
import type { Fetcher, FetcherFactory } from './fetcher.ts';

// The sync worker's PMS readers, apart from the sources' registry (registry.ts) so that ingest's
// bundle never meets their `import()`s (docs/throughput.md, "Cold start").

/**
 * A fetcher whose code loads on its first use, so a sync worker's cold start builds no PMS
 * reader (and no source schemas) it does not call. `has` names the optional methods the real
 * one has, so callers see the same shape.
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
