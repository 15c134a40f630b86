import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import { addDays } from '../core/time.ts';
import type { HttpResponse } from '../core/http-client.ts';
import type { ClientRefMessage, ReservationRefMessage } from '../core/queue.ts';
import { hasGuestStay, type Reservation } from '../core/reservation.ts';
import { pmsApiClient, staysWithin, type Fetcher, type FetcherDeps, type ListQuery, type ReservationPage } from './fetcher.ts';
import { expectOk, PmsOAuth } from './pms-oauth.ts';
import { expectProbeAccepted, normaliseRead } from './reread.ts';
import { cancelled, guestFromSmilyClient, normaliseSmilyBooking } from './smily.ts';
import { isObject } from '../core/own.ts';

/**
 * Reads bookings and clients from the Smily (BookingSync) API v3 (`https://www.bookingsync.com`):
 * `POST /oauth/token`, `GET /api/v3/bookings/{id}`, `GET /api/v3/clients/{id}` and
 * `GET /api/v3/bookings?client_id=...` (bookings ending after now, the documented default).
 * Smily does not guarantee webhook order and advises re-reading on each webhook, so the
 * booking is always read fresh; the client only when the booking holds a guest stay.
 * Responses wrap records in arrays (`{"bookings":[...]}`); lists page with a `Link: rel="next"`.
 */

const DEFAULT_REQUESTS_PER_SECOND = 2;
const MAX_PAGES = 20;

type Guest = ReturnType<typeof guestFromSmilyClient>;

export function createSmilyFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const { api, baseUrl, instanceId, http } = pmsApiClient('smily', connectionId, connection, deps, DEFAULT_REQUESTS_PER_SECOND);
  const oauth = new PmsOAuth({ name: 'smily', tokenUrl: `${baseUrl}/oauth/token`, credentialsRef: api.credentials, defaultScope: 'bookings_read clients_read', http, deps, owner: instanceId });

  const get = (url: string) => oauth.call({ method: 'GET', url: url.startsWith('http') ? url : `${baseUrl}${url}` });

  /** The one record of a `{"<plural>": [record]}` (or bare object) answer. */
  const single = (response: HttpResponse, plural: string, what: string): Record<string, unknown> => {
    const json = expectOk('smily', what, response);
    const list = isObject(json) ? json[plural] : undefined;
    const record: unknown = Array.isArray(list) ? list[0] : json;
    if (!isObject(record)) throw new RetryableError(`smily: ${what} answered no ${plural}`, undefined, 'invalid_response');
    return record;
  };

  const readClient = async (clientId: string, propertyId: string): Promise<Guest | null> => {
    const response = await get(`/api/v3/clients/${encodeURIComponent(clientId)}`);
    if (response.status === 404) return null;
    return guestFromSmilyClient(single(response, 'clients', 'GET client'), propertyId, connection);
  };

  const normalise = (raw: unknown, guest: Guest | null): Reservation => normaliseRead('smily', () => normaliseSmilyBooking(raw, connectionId, connection, guest, 'booking'), 'booking');

  const withGuest = (reservation: Reservation, guest: Guest | null): Reservation =>
    guest
      ? { ...reservation, guest: guest.guest, dropped: [...reservation.dropped, ...guest.dropped] }
      : { ...reservation, dropped: [...reservation.dropped, { field: 'guest', reason: 'client_not_found' }] };

  return {
    async fetchReservation(ref: ReservationRefMessage, stored: Reservation | undefined): Promise<Reservation | null> {
      if (ref.hints.event === 'booking_destroyed') return gone(ref, stored);
      const response = await get(`/api/v3/bookings/${encodeURIComponent(ref.reservationId)}`);
      if (response.status === 404) return gone(ref, stored);
      const raw = single(response, 'bookings', 'GET booking');
      const reservation = normalise(raw, null);
      if (!hasGuestStay(reservation.status)) return reservation; // no guest needed to remove one
      const clientId = isObject(raw.links) && (typeof raw.links.client === 'number' || typeof raw.links.client === 'string') ? String(raw.links.client) : null;
      if (!clientId) return reservation;
      return withGuest(reservation, await readClient(clientId, reservation.propertyId));
    },

    async checkCredentials() {
      const response = await oauth.probe({ method: 'GET', url: `${baseUrl}/api/v3/bookings/0` });
      expectProbeAccepted('smily', api.credentials, response, [404]);
    },

    /**
     * Backfill: `GET /api/v3/bookings` of stays overlapping the window (`from`, `until`, as
     * YYYYMMDD), of one rental when asked, cancellations included, 100 a page, following the
     * `Link: rel="next"` of our own API (the cursor). Each guest stay's client is read once per
     * page (the booking holds no guest).
     */
    async listReservations(query: ListQuery): Promise<ReservationPage> {
      const compact = (date: string) => date.replaceAll('-', '');
      const dayAfter = addDays(query.to, 1);
      const params = new URLSearchParams({ from: compact(query.from), until: compact(dayAfter), include_canceled: 'true', per_page: '100', ...(query.propertyId ? { rental_id: query.propertyId } : {}) });
      const url = query.cursor ?? `/api/v3/bookings?${params}`;
      // Only our own API: the bearer token must not go anywhere else.
      if (url.startsWith('http') && !url.startsWith(`${baseUrl}/`)) throw new RetryableError('smily: backfill cursor is not on the API it was configured with', undefined, 'invalid_cursor');
      const response = await get(url);
      const json = expectOk('smily', 'GET bookings', response);
      const list = isObject(json) ? json.bookings : undefined;
      if (!Array.isArray(list)) throw new RetryableError('smily: GET bookings answered no bookings', undefined, 'invalid_response');
      const clients = new Map<string, Promise<Guest | null>>();
      const reservations: Reservation[] = [];
      for (const raw of list) {
        const reservation = normalise(raw, null);
        const clientId = isObject(raw) && isObject(raw.links) && (typeof raw.links.client === 'number' || typeof raw.links.client === 'string') ? String(raw.links.client) : null;
        if (!hasGuestStay(reservation.status) || !clientId) {
          reservations.push(reservation);
          continue;
        }
        if (!clients.has(clientId)) clients.set(clientId, readClient(clientId, reservation.propertyId));
        reservations.push(withGuest(reservation, await clients.get(clientId)!));
      }
      const next = nextLink(response.headers.get('link'));
      const total = Number(response.headers.get('x-total-count'));
      return {
        reservations: reservations.filter((r) => staysWithin(r, query)),
        ...(next?.startsWith(`${baseUrl}/`) ? { next } : {}),
        ...(Number.isInteger(total) && total >= 0 && response.headers.get('x-total-count') !== null ? { total } : {}),
      };
    },

    async fetchClientReservations(ref: ClientRefMessage): Promise<Reservation[]> {
      const bookings: unknown[] = [];
      let url: string | undefined = `/api/v3/bookings?client_id=${encodeURIComponent(ref.clientId)}&include_canceled=true`;
      for (let page = 0; url && page < MAX_PAGES; page++) {
        const response = await get(url);
        const json = expectOk('smily', 'GET bookings', response);
        const list = isObject(json) ? json.bookings : undefined;
        if (!Array.isArray(list)) throw new RetryableError('smily: GET bookings answered no bookings', undefined, 'invalid_response');
        bookings.push(...list);
        const next = nextLink(response.headers.get('link'));
        // Follow only our own API: the bearer token must not go anywhere else.
        url = next?.startsWith(`${baseUrl}/`) ? next : undefined;
      }
      if (bookings.length === 0) return [];
      const propertyOf = (raw: unknown) => (isObject(raw) && isObject(raw.links) ? String(raw.links.rental) : '');
      // One client read serves all its bookings (the phone's default region comes from the first rental).
      const guest = await readClient(ref.clientId, propertyOf(bookings[0]));
      return bookings.map((raw) => {
        const reservation = normalise(raw, null);
        return hasGuestStay(reservation.status) ? withGuest(reservation, guest) : reservation;
      });
    },
  };
}

/** A destroyed booking: the last known state (stored snapshot or the webhook's booking), cancelled. */
function gone(ref: ReservationRefMessage, stored: Reservation | undefined): Reservation | null {
  const base = stored ?? ref.partial;
  if (!base) return null; // never synced, nothing to remove
  const version = Math.max(stored?.sourceVersion ?? 0, ref.partial?.sourceVersion ?? 0);
  return { ...cancelled(base), sourceVersion: version };
}

function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}
