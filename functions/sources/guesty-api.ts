import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import { hasGuestStay, type Reservation } from '../core/reservation.ts';
import { pmsApiClient, type Fetcher, type FetcherDeps } from './fetcher.ts';
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

export function createGuestyFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
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

  return {
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
  };
}
