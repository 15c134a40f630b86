import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import { addDays } from '../core/time.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import { normaliseApaleoReservation } from './apaleo.ts';
import { pmsApiClient, pageNumberCursor, staysWithin, type Fetcher, type FetcherDeps, type ListQuery, type ReservationPage } from './fetcher.ts';
import { expectOk, PmsOAuth } from './pms-oauth.ts';
import { expectProbeAccepted, goneReservation, normaliseRead, PROBE_ID, readVersion } from './reread.ts';

/**
 * Reads reservations from apaleo's Booking API (`https://api.apaleo.com`):
 * `GET /booking/v1/reservations/{id}` with a bearer token from
 * `POST https://identity.apaleo.com/connect/token` (client_credentials, the client in HTTP
 * Basic, scope `reservations.read`), cached in DynamoDB for every worker. The guest is inline
 * (`primaryGuest`). Live accounts allow 100 requests/s on average, dev accounts 5/s: the
 * default 5/s per connection and worker suits both. A 404 cancels what was synced.
 */

const DEFAULT_REQUESTS_PER_SECOND = 5;
const DEFAULT_TOKEN_URL = 'https://identity.apaleo.com/connect/token';
const LIST_PAGE_SIZE = 200;

export function createApaleoFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const { api, baseUrl, instanceId, http } = pmsApiClient('apaleo', connectionId, connection, deps, DEFAULT_REQUESTS_PER_SECOND);
  const now = deps.now ?? Date.now;
  const oauth = new PmsOAuth({ name: 'apaleo', tokenUrl: api.tokenUrl ?? DEFAULT_TOKEN_URL, credentialsRef: api.credentials, defaultScope: 'reservations.read', clientAuth: 'basic', http, deps, owner: instanceId });

  return {
    async fetchReservation(ref: ReservationRefMessage, stored: Reservation | undefined): Promise<Reservation | null> {
      const response = await oauth.call({ method: 'GET', url: `${baseUrl}/booking/v1/reservations/${encodeURIComponent(ref.reservationId)}` });
      const eventVersion = typeof ref.hints.version === 'number' ? ref.hints.version : readVersion(now(), stored);
      if (response.status === 404) return goneReservation(ref, stored, eventVersion);
      const raw = expectOk('apaleo', 'GET reservation', response);
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RetryableError('apaleo: GET reservation did not answer a JSON object', undefined, 'invalid_response');
      return normaliseRead('apaleo', () => normaliseApaleoReservation(raw, connectionId, connection, eventVersion, 'reservation'));
    },

    /**
     * Backfill: `GET /booking/v1/reservations` with `dateFilter=Stay` (reservations overlapping
     * [from, to): the day after the window's last day is `to`), `propertyIds` when one property
     * is asked for, 200 a page (the documented maximum); an empty page answers 204. The guest is
     * inline, as in a single read. The cursor is the next page number.
     */
    async listReservations(query: ListQuery): Promise<ReservationPage> {
      const page = pageNumberCursor('apaleo', query);
      const dayAfter = addDays(query.to, 1);
      const params = new URLSearchParams({ dateFilter: 'Stay', from: `${query.from}T00:00:00Z`, to: `${dayAfter}T00:00:00Z`, pageNumber: String(page), pageSize: String(LIST_PAGE_SIZE), ...(query.propertyId ? { propertyIds: query.propertyId } : {}) });
      const response = await oauth.call({ method: 'GET', url: `${baseUrl}/booking/v1/reservations?${params}` });
      if (response.status === 204) return { reservations: [] };
      const json = expectOk('apaleo', 'GET reservations', response);
      const body = typeof json === 'object' && json !== null ? (json as { reservations?: unknown; count?: unknown }) : {};
      if (!Array.isArray(body.reservations)) throw new RetryableError('apaleo: GET reservations answered no reservations list', undefined, 'invalid_response');
      const version = readVersion(now(), undefined);
      const reservations = body.reservations.map((item) => normaliseRead('apaleo', () => normaliseApaleoReservation(item, connectionId, connection, version, 'reservation'))).filter((r) => staysWithin(r, query));
      const more = body.reservations.length === LIST_PAGE_SIZE;
      return { reservations, ...(more ? { next: String(page + 1) } : {}), ...(typeof body.count === 'number' ? { total: body.count } : {}) };
    },

    async checkCredentials() {
      const response = await oauth.probe({ method: 'GET', url: `${baseUrl}/booking/v1/reservations/${PROBE_ID}` });
      expectProbeAccepted('apaleo', api.credentials, response, [404]);
    },
  };
}
