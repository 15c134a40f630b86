import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import type { Fetcher, FetcherDeps } from './fetcher.ts';
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

    async checkCredentials() {
      expectProbeAccepted('hospitable', api.credentialsRef, await api.get(`/reservations/${PROBE_ID}`), [404]);
    },
  };
}
