import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError, WebhookError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import { pmsApiClient, staysWithin, type Fetcher, type FetcherDeps, type ListQuery, type ReservationPage } from './fetcher.ts';
import { hostaway } from './hostaway.ts';
import { expectOk, PmsOAuth } from './pms-oauth.ts';
import { expectProbeAccepted, PROBE_ID } from './reread.ts';

/**
 * Reads reservations from Hostaway's API (`https://api.hostaway.com/v1`), for backfill and
 * reconciliation only: Hostaway's webhooks carry the whole reservation. The API credentials are
 * an optional part of a Hostaway connection (`api`, secret `{"clientId": <account id>,
 * "clientSecret": <API key>}`); the token (`POST /accessTokens`, client_credentials, scope
 * `general`, valid for months) is cached in DynamoDB for every worker, and a 403 (Hostaway's
 * answer to an expired token) gets a fresh one. Hostaway allows 15 requests / 10 s per IP and
 * 20 per account: the default 1/s per connection and worker stays inside both.
 */

const DEFAULT_REQUESTS_PER_SECOND = 1;
const LIST_PAGE_SIZE = 100;

export function createHostawayFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const { api, baseUrl, instanceId, http } = pmsApiClient('hostaway', connectionId, connection, deps, DEFAULT_REQUESTS_PER_SECOND);
  const now = deps.now ?? Date.now;
  const oauth = new PmsOAuth({ name: 'hostaway', tokenUrl: api.tokenUrl ?? `${baseUrl}/accessTokens`, credentialsRef: api.credentials, defaultScope: 'general', http, deps, owner: instanceId, rejectedStatuses: [401, 403] });

  /** The list and the single read return the webhook's reservation object: the webhook's parser reads it. */
  const normalise = (raw: unknown): Reservation => {
    try {
      const parsed = hostaway.parse({ event: 'reservation.updated', data: raw }, { connectionId, connection, now: now() });
      if (parsed.kind !== 'reservations' || parsed.reservations.length !== 1) throw new WebhookError(400, 'invalid_payload', 'not one reservation');
      return parsed.reservations[0]!;
    } catch (error) {
      if (error instanceof WebhookError) throw new RetryableError(`hostaway: a reservation from the API is unusable: ${error.message}`, undefined, 'invalid_response');
      throw error;
    }
  };

  return {
    async fetchReservation(ref: ReservationRefMessage): Promise<Reservation | null> {
      const json = expectOk('hostaway', 'GET reservation', await oauth.call({ method: 'GET', url: `${baseUrl}/reservations/${encodeURIComponent(ref.reservationId)}?includeResources=1` }));
      const result = typeof json === 'object' && json !== null ? (json as { result?: unknown }).result : undefined;
      return result ? normalise(result) : null;
    },

    /**
     * Backfill: `GET /reservations` with `listingId` (one property, when asked), stays that depart
     * on or after `from` and arrive on or before `to`, `includeResources=1` (units), 100 a page,
     * paged with the `afterId` cursor (the id of the last row) until a short page. Rows carry
     * `updatedOn`, so versions order with the webhooks'.
     */
    async listReservations(query: ListQuery): Promise<ReservationPage> {
      const params = new URLSearchParams({ departureStartDate: query.from, arrivalEndDate: query.to, includeResources: '1', limit: String(LIST_PAGE_SIZE), ...(query.propertyId ? { listingId: query.propertyId } : {}), ...(query.cursor ? { afterId: query.cursor } : {}) });
      const json = expectOk('hostaway', 'GET reservations', await oauth.call({ method: 'GET', url: `${baseUrl}/reservations?${params}` }));
      const rows = typeof json === 'object' && json !== null ? (json as { result?: unknown }).result : undefined;
      if (!Array.isArray(rows)) throw new RetryableError('hostaway: GET reservations answered no result list', undefined, 'invalid_response');
      const reservations = rows.map(normalise).filter((r) => staysWithin(r, query));
      const last: unknown = rows.at(-1);
      const lastId = typeof last === 'object' && last !== null ? (last as { id?: unknown }).id : undefined;
      return { reservations, ...(rows.length === LIST_PAGE_SIZE && lastId !== undefined ? { next: String(lastId) } : {}) };
    },

    async checkCredentials() {
      const response = await oauth.probe({ method: 'GET', url: `${baseUrl}/reservations/${PROBE_ID}` });
      expectProbeAccepted('hostaway', api.credentials, response, [404]);
    },
  };
}
