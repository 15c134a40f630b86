import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import { pageNumberCursor, staysWithin, type Fetcher, type FetcherDeps, type ListQuery, type ReservationPage } from './fetcher.ts';
import { expectOk } from './pms-oauth.ts';
import { apiKeyReader, expectProbeAccepted, goneReservation, normaliseRead, readVersion } from './reread.ts';
import { normaliseSmoobuReservation } from './smoobu.ts';

/**
 * Reads reservations from Smoobu's API (`https://login.smoobu.com`):
 * `GET /api/reservations/{id}` with the account's key in `Api-Key` (docs.smoobu.com
 * "Authentication"). The answer has the webhook's `data` shape. A 404 cancels what was synced.
 * Smoobu's limit (1000/min) is third-party knowledge only; the default 5/s per connection and
 * worker stays far inside it. Smoobu announced HMAC-signed API requests from 2026-09-25 without
 * publishing the scheme where we could read it: see docs/pms-sources.md.
 */

const DEFAULT_REQUESTS_PER_SECOND = 5;
const LIST_PAGE_SIZE = 100;

export function createSmoobuFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const now = deps.now ?? Date.now;
  const api = apiKeyReader({ name: 'smoobu', connectionId, connection, deps, defaultRequestsPerSecond: DEFAULT_REQUESTS_PER_SECOND, header: 'api-key' });
  return {
    async fetchReservation(ref: ReservationRefMessage, stored: Reservation | undefined): Promise<Reservation | null> {
      const response = await api.get(`/api/reservations/${encodeURIComponent(ref.reservationId)}`);
      const version = readVersion(now(), stored);
      if (response.status === 404) return goneReservation(ref, stored, version);
      const raw = expectOk('smoobu', 'GET reservation', response);
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RetryableError('smoobu: GET reservation did not answer a JSON object', undefined, 'invalid_response');
      return normaliseRead('smoobu', () => normaliseSmoobuReservation(raw, connectionId, connection, version, 'reservation'));
    },

    /**
     * Backfill: `GET /api/reservations` with `apartmentId` (the property, when one is asked for),
     * `from`/`to` (stays overlapping the window), cancellations included (a cancellation a webhook
     * missed is caught too), 100 a page; the cursor is the next page number. Third-party knowledge
     * (docs/pms-sources.md); the window is checked again here.
     */
    async listReservations(query: ListQuery): Promise<ReservationPage> {
      const page = pageNumberCursor('smoobu', query);
      const params = new URLSearchParams({ from: query.from, to: query.to, showCancellation: 'true', page: String(page), pageSize: String(LIST_PAGE_SIZE), ...(query.propertyId ? { apartmentId: query.propertyId } : {}) });
      const json = expectOk('smoobu', 'GET reservations', await api.get(`/api/reservations?${params}`));
      const body = typeof json === 'object' && json !== null ? (json as { bookings?: unknown; page_count?: unknown; total_items?: unknown }) : {};
      if (!Array.isArray(body.bookings)) throw new RetryableError('smoobu: GET reservations answered no bookings list', undefined, 'invalid_response');
      const version = readVersion(now(), undefined);
      const reservations = body.bookings.map((item) => normaliseRead('smoobu', () => normaliseSmoobuReservation(item, connectionId, connection, version, 'booking'))).filter((r) => staysWithin(r, query));
      const pageCount = typeof body.page_count === 'number' ? body.page_count : page;
      return { reservations, ...(page < pageCount ? { next: String(page + 1) } : {}), ...(typeof body.total_items === 'number' ? { total: body.total_items } : {}) };
    },

    async checkCredentials() {
      expectProbeAccepted('smoobu', api.credentialsRef, await api.get('/api/reservations/1'), [404]);
    },
  };
}
