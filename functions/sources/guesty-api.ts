import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import { hasGuestStay, type Reservation } from '../core/reservation.ts';
import { invalidCursor, pmsApiClient, readListed, type Fetcher, type FetcherDeps, type ListQuery, type ReservationPage } from './fetcher.ts';
import { guestFromGuesty, normaliseGuestyReservation } from './guesty.ts';
import { expectOk, PmsOAuth } from './pms-oauth.ts';
import { normaliseRead } from './reread.ts';

/**
 * Reads reservations and guests from Guesty's Open API (`https://open-api.guesty.com`):
 * `POST /oauth2/token` (client_credentials, scope `open-api`; the token lives 24 h and Guesty
 * allows only a few grants a day, so it is cached in DynamoDB for every worker),
 * `GET /v1/reservations/{id}` and `GET /v1/guests/{id}`. Paced per connection (Guesty's limits
 * are 15/s, 120/min, 5000/h; the default 2/s stays under the per-minute one), Retry-After
 * honoured, 5xx retried by the HTTP client; whatever still fails is a RetryableError.
 */

const DEFAULT_REQUESTS_PER_SECOND = 2;
/** The search's documented maximum page size. */
const LIST_PAGE_SIZE = 100;

export function createGuestyFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const now = deps.now ?? Date.now;
  const { api, baseUrl, instanceId, http } = pmsApiClient('guesty', connectionId, connection, deps, DEFAULT_REQUESTS_PER_SECOND);
  const oauth = new PmsOAuth({ name: 'guesty', tokenUrl: `${baseUrl}/oauth2/token`, credentialsRef: api.credentials, defaultScope: 'open-api', http, deps, owner: instanceId });

  const get = async (path: string, what: string): Promise<Record<string, unknown>> => {
    const json = expectOk('guesty', what, await oauth.call({ method: 'GET', url: `${baseUrl}${path}` }));
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RetryableError(`guesty: ${what} did not answer a JSON object`, undefined, 'invalid_response');
    return json as Record<string, unknown>;
  };

  const readGuest = async (guestId: string, propertyId: string) => {
    const raw = await get(`/v1/guests/${encodeURIComponent(guestId)}`, 'GET guest');
    return guestFromGuesty(raw, propertyId, connection) ?? null;
  };

  const fetcher: Fetcher = {
    async fetchReservation(ref: ReservationRefMessage): Promise<Reservation | null> {
      // Legacy events carry the reservation already: only its guest is missing.
      if (ref.partial) {
        if (!hasGuestStay(ref.partial.status)) return ref.partial; // no guest needed to remove one
        const guestId = typeof ref.hints.guestId === 'string' ? ref.hints.guestId : null;
        const guest = guestId ? await readGuest(guestId, ref.partial.propertyId) : null;
        return guest ? { ...ref.partial, guest: guest.guest, dropped: [...ref.partial.dropped, ...guest.dropped] } : ref.partial;
      }
      const raw = await get(`/v1/reservations/${encodeURIComponent(ref.reservationId)}`, 'GET reservation');
      const reservation = normaliseRead('guesty', () => normaliseGuestyReservation(raw, connectionId, connection, null, 'reservation'));
      if (!hasGuestStay(reservation.status)) return reservation;
      // The Open API may embed the guest; otherwise read it by id.
      const embedded = typeof raw.guest === 'object' && raw.guest !== null && !Array.isArray(raw.guest) ? guestFromGuesty(raw.guest as Record<string, unknown>, reservation.propertyId, connection) : undefined;
      const guestId = typeof raw.guestId === 'string' && raw.guestId !== '' ? raw.guestId : null;
      const guest = embedded ?? (guestId ? await readGuest(guestId, reservation.propertyId) : null);
      return guest ? { ...reservation, guest: guest.guest, dropped: guest.dropped } : reservation;
    },

    /**
     * Backfill: `GET /v1/reservations-v3/search` (the legacy `GET /v1/reservations` list is
     * deprecated and removed on 1 March 2027) of stays that check out on or after `from` and check
     * in on or before `to`, of the listing asked for or else the configured ones, sorted by `_id`
     * so `skip` paging is stable, 100 a page; `pagination.hasMore` says whether another page follows. Its items are v3
     * projections without guest contact, so each is read again the way a webhook's is (reservation,
     * then guest). The cursor is the next `skip`.
     */
    async listReservations(query: ListQuery): Promise<ReservationPage> {
      const skip = Number(query.cursor ?? '0');
      if (!Number.isInteger(skip) || skip < 0) throw invalidCursor('guesty', query.cursor);
      const params = new URLSearchParams({ 'filter[checkOut][gte]': query.from, 'filter[checkIn][lte]': query.to, sort: '_id', skip: String(skip), limit: String(LIST_PAGE_SIZE) });
      // The configured listings only: a reservation elsewhere would be read again for nothing.
      const listings = query.propertyId ? [query.propertyId] : Object.keys(connection.properties);
      if (listings.length > 0) params.set('filter[listingId]', listings.join(','));
      const page = searchPage(await get(`/v1/reservations-v3/search?${params}`, 'reservations search'));
      const reservations = await readListed(fetcher, connectionId, page.ids.map((reservationId) => ({ reservationId })), query, now);
      return { reservations, ...(page.hasMore ? { next: String(skip + page.ids.length) } : {}) };
    },
  };
  return fetcher;
}

/**
 * The reservation ids of one search page and whether more follow. The answer is
 * `{results: [...], pagination: {hasMore}}`; an item names its reservation by `reservationId`
 * or `_id`. A page that says more follow but holds nothing would page forever: retried instead.
 */
export function searchPage(body: Record<string, unknown>): { ids: string[]; hasMore: boolean } {
  const results = body.results;
  const pagination = body.pagination;
  const hasMore = typeof pagination === 'object' && pagination !== null && (pagination as { hasMore?: unknown }).hasMore === true;
  if (!Array.isArray(results)) throw new RetryableError('guesty: reservations search answered no results list', undefined, 'invalid_response');
  const ids: string[] = [];
  for (const item of results) {
    const fields = typeof item === 'object' && item !== null ? (item as { reservationId?: unknown; _id?: unknown }) : {};
    const id = typeof fields.reservationId === 'string' && fields.reservationId !== '' ? fields.reservationId : typeof fields._id === 'string' && fields._id !== '' ? fields._id : undefined;
    if (id === undefined) throw new RetryableError('guesty: a reservations search item has no reservation id', undefined, 'invalid_response');
    ids.push(id);
  }
  if (hasMore && results.length === 0) throw new RetryableError('guesty: reservations search says more pages follow but returned none', undefined, 'invalid_response');
  return { ids, hasMore };
}
