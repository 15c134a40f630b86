import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import { normaliseCloudbedsReservation } from './cloudbeds.ts';
import type { Fetcher, FetcherDeps } from './fetcher.ts';
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

export function createCloudbedsFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const now = deps.now ?? Date.now;
  const api = apiKeyReader({ name: 'cloudbeds', connectionId, connection, deps, defaultRequestsPerSecond: DEFAULT_REQUESTS_PER_SECOND, header: 'x-api-key' });
  return {
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
  };
}
