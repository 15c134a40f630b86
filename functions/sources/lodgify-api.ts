import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import type { Fetcher, FetcherDeps } from './fetcher.ts';
import { normaliseLodgifyBooking } from './lodgify.ts';
import { expectOk } from './pms-oauth.ts';
import { apiKeyReader, expectProbeAccepted, goneReservation, normaliseRead, readVersion } from './reread.ts';

/**
 * Reads bookings from the Lodgify Public API v2 (`https://api.lodgify.com`):
 * `GET /v2/reservations/bookings/{id}` with the account's key in `X-ApiKey` (docs.lodgify.com
 * "Authorization"). Lodgify allows 750 requests/min on v2; the default 5/s per connection and
 * worker stays well inside it. The booking embeds its guest (`guest{name,email,phone,
 * country_code}`), so one read is all a webhook costs. A 404 (or `is_deleted`) cancels.
 */

const DEFAULT_REQUESTS_PER_SECOND = 5;

export function createLodgifyFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const now = deps.now ?? Date.now;
  const api = apiKeyReader({ name: 'lodgify', connectionId, connection, deps, defaultRequestsPerSecond: DEFAULT_REQUESTS_PER_SECOND, header: 'x-apikey' });
  return {
    async fetchReservation(ref: ReservationRefMessage, stored: Reservation | undefined): Promise<Reservation | null> {
      const response = await api.get(`/v2/reservations/bookings/${encodeURIComponent(ref.reservationId)}`);
      const version = readVersion(now(), stored);
      if (response.status === 404) return goneReservation(ref, stored, version);
      const raw = expectOk('lodgify', 'GET booking', response);
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RetryableError('lodgify: GET booking did not answer a JSON object', undefined, 'invalid_response');
      return normaliseRead('lodgify', () => normaliseLodgifyBooking(raw, undefined, connectionId, connection, version, 'booking'));
    },

    async checkCredentials() {
      // Lodgify ids are numbers: an id no booking has.
      expectProbeAccepted('lodgify', api.credentialsRef, await api.get('/v2/reservations/bookings/1'), [404]);
    },
  };
}
