import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import { normaliseCloudbedsReservation } from './cloudbeds.ts';
import { pageNumberCursor, readListed, type Fetcher, type FetcherDeps, type ListQuery, type ReservationPage } from './fetcher.ts';
import { expectOk } from './pms-oauth.ts';
import { apiKeyReader, expectProbeAccepted, goneReservation, normaliseRead, PROBE_ID, readVersion } from './reread.ts';

/**
 * Reads reservations from the Cloudbeds PMS API (`https://api.cloudbeds.com/api/v1.3`):
 * `GET /getReservation?reservationID=…&propertyID=…` with the key in `x-api-key` (scope
 * `read:reservation`); guests and rooms are inline. Cloudbeds allows 5–10 requests/s and may
 * suspend credentials that exceed it: the default is 3/s per connection and worker. Answers are
 * `{success, data, message}`; an HTTP 200 with `success: false` is a failure, retried. A
 * `reservation/deleted` event, or a 404, cancels what was synced.
 */

const DEFAULT_REQUESTS_PER_SECOND = 3;
const LIST_PAGE_SIZE = 100;

export function createCloudbedsFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const now = deps.now ?? Date.now;
  const api = apiKeyReader({ name: 'cloudbeds', connectionId, connection, deps, defaultRequestsPerSecond: DEFAULT_REQUESTS_PER_SECOND, header: 'x-api-key' });
  const fetcher: Fetcher = {
    async fetchReservation(ref: ReservationRefMessage, stored: Reservation | undefined): Promise<Reservation | null> {
      const version = typeof ref.hints.version === 'number' ? ref.hints.version : readVersion(now(), stored);
      if (ref.hints.event === 'reservation/deleted') return goneReservation(ref, stored, version);
      const query = new URLSearchParams({ reservationID: ref.reservationId, ...(ref.propertyId ? { propertyID: ref.propertyId } : {}) });
      const response = await api.get(`/getReservation?${query.toString()}`);
      if (response.status === 404) return goneReservation(ref, stored, version);
      const json = expectOk('cloudbeds', 'getReservation', response);
      const body = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
      if (body.success !== true || typeof body.data !== 'object' || body.data === null) {
        throw new RetryableError('cloudbeds: getReservation answered success: false', undefined, 'api_refused');
      }
      return normaliseRead('cloudbeds', () => normaliseCloudbedsReservation(body.data, connectionId, connection, version, 'data'));
    },

    async checkCredentials() {
      // A refused key is a 401; an accepted one answers 200 (success: false for an unknown id).
      expectProbeAccepted('cloudbeds', api.credentialsRef, await api.get(`/getReservation?reservationID=${PROBE_ID}`), []);
    },

    /**
     * Backfill: `GET /getReservations` of stays that check out on or after `from` and check in on
     * or before `to`, of one property when asked, 100 a page (the documented maximum). Its items
     * have no guest contact, so each is read again with `getReservation` (paced like any read).
     * The cursor is the next page number.
     */
    async listReservations(query: ListQuery): Promise<ReservationPage> {
      const page = pageNumberCursor('cloudbeds', query);
      const params = new URLSearchParams({ checkOutFrom: query.from, checkInTo: query.to, pageNumber: String(page), pageSize: String(LIST_PAGE_SIZE), ...(query.propertyId ? { propertyID: query.propertyId } : {}) });
      const json = expectOk('cloudbeds', 'getReservations', await api.get(`/getReservations?${params}`));
      const body = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as { success?: unknown; data?: unknown; total?: unknown }) : {};
      if (body.success !== true || !Array.isArray(body.data)) throw new RetryableError('cloudbeds: getReservations answered success: false', undefined, 'api_refused');
      const listed = body.data.flatMap((item) => {
        const id = typeof item === 'object' && item !== null ? (item as { reservationID?: unknown; propertyID?: unknown }) : {};
        if (typeof id.reservationID !== 'string' && typeof id.reservationID !== 'number') return [];
        return [{ reservationId: String(id.reservationID), ...(id.propertyID !== undefined ? { propertyId: String(id.propertyID) } : {}) }];
      });
      const reservations = await readListed(fetcher, connectionId, listed, query, now);
      const more = body.data.length === LIST_PAGE_SIZE;
      return { reservations, ...(more ? { next: String(page + 1) } : {}), ...(typeof body.total === 'number' ? { total: body.total } : {}) };
    },
  };
  return fetcher;
}
