import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import { LIMITS, type Reservation } from '../core/reservation.ts';
import { addDays } from '../core/time.ts';
import { invalidCursor, staysWithin, type Fetcher, type FetcherDeps, type ListQuery, type ReservationPage } from './fetcher.ts';
import { normaliseHospitableReservation } from './hospitable.ts';
import { expectOk } from './pms-oauth.ts';
import { apiKeyReader, expectProbeAccepted, goneReservation, normaliseRead, PROBE_ID, readVersion } from './reread.ts';

/**
 * Completes Hospitable events whose `data` was partial: `GET /reservations/{uuid}?include=
 * guest,properties` on the Public API v2 (`https://public.api.hospitable.com/v2`, OpenAPI
 * `get-reservation`) with a personal access token as `Authorization: Bearer` (secret
 * `{"accessToken"}`). Hospitable publishes no general rate limit; 2/s per connection is the
 * default. The event's time orders the read (the hint `version`); a 404 cancels what was synced.
 */

const DEFAULT_REQUESTS_PER_SECOND = 2;
const LIST_PAGE_SIZE = 100;

export function createHospitableFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const now = deps.now ?? Date.now;
  const api = apiKeyReader({ name: 'hospitable', connectionId, connection, deps, defaultRequestsPerSecond: DEFAULT_REQUESTS_PER_SECOND, header: 'authorization' });
  return {
    async fetchReservation(ref: ReservationRefMessage, stored: Reservation | undefined): Promise<Reservation | null> {
      const response = await api.get(`/reservations/${encodeURIComponent(ref.reservationId)}?include=guest,properties`);
      const version = typeof ref.hints.version === 'number' ? ref.hints.version : readVersion(now(), stored);
      if (response.status === 404) return goneReservation(ref, stored, version);
      const json = expectOk('hospitable', 'GET reservation', response);
      const raw = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>).data : undefined;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RetryableError('hospitable: GET reservation answered no data', undefined, 'invalid_response');
      return normaliseRead('hospitable', () => normaliseHospitableReservation(raw, connectionId, connection, version, 'data'));
    },

    /**
     * Backfill: `GET /reservations` needs the property UUIDs (`properties[]`): the one asked for,
     * else each property the connection configures, in turn. Stays that end in the window are
     * asked for by check-out (`date_query=checkout`), up to the window's end plus the longest stay
     * allowed, then filtered here. The cursor is `<property index>:<page>`; 100 a page.
     */
    async listReservations(query: ListQuery): Promise<ReservationPage> {
      const properties = query.propertyId ? [query.propertyId] : Object.keys(connection.properties).sort();
      const [indexText, pageText] = (query.cursor ?? '0:1').split(':');
      const index = Number(indexText);
      const page = Number(pageText);
      if (!Number.isInteger(index) || !Number.isInteger(page) || page < 1) throw invalidCursor('hospitable', query.cursor);
      const propertyId = properties[index];
      if (propertyId === undefined) return { reservations: [] };
      const until = addDays(query.to, LIMITS.maxStayNightsCeiling);
      const params = new URLSearchParams({ 'properties[]': propertyId, start_date: query.from, end_date: until, date_query: 'checkout', include: 'guest,properties', per_page: String(LIST_PAGE_SIZE), page: String(page) });
      const json = expectOk('hospitable', 'GET reservations', await api.get(`/reservations?${params}`));
      const body = typeof json === 'object' && json !== null ? (json as { data?: unknown; meta?: { last_page?: unknown } }) : {};
      if (!Array.isArray(body.data)) throw new RetryableError('hospitable: GET reservations answered no data list', undefined, 'invalid_response');
      const version = readVersion(now(), undefined);
      const reservations = body.data.map((item) => normaliseRead('hospitable', () => normaliseHospitableReservation(item, connectionId, connection, version, 'data'))).filter((r) => staysWithin(r, query));
      const lastPage = typeof body.meta?.last_page === 'number' ? body.meta.last_page : page;
      const next = page < lastPage ? `${index}:${page + 1}` : index + 1 < properties.length ? `${index + 1}:1` : undefined;
      return { reservations, ...(next ? { next } : {}) };
    },

    async checkCredentials() {
      expectProbeAccepted('hospitable', api.credentialsRef, await api.get(`/reservations/${PROBE_ID}`), [404]);
    },
  };
}
