import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import { invalidCursor, staysWithin, type Fetcher, type FetcherDeps, type ListQuery, type ReservationPage } from './fetcher.ts';
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
const LIST_PAGE_SIZE = 50;
const LIST_PASSES = ['Current', 'Upcoming'] as const;

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

    /**
     * Backfill: Lodgify lists by stay (`stayFilter`) with no property filter and no date range, so
     * two passes, `Current` (in house) then `Upcoming`, filtered here by window and property.
     * The cursor is `<pass>:<page>`; pages hold at most 50 (the documented size).
     */
    async listReservations(query: ListQuery): Promise<ReservationPage> {
      const [pass, pageText] = (query.cursor ?? `${LIST_PASSES[0]}:1`).split(':');
      const page = Number(pageText);
      const passIndex = LIST_PASSES.indexOf(pass as (typeof LIST_PASSES)[number]);
      if (passIndex < 0 || !Number.isInteger(page) || page < 1) throw invalidCursor('lodgify', query.cursor);
      const response = await api.get(`/v2/reservations/bookings?stayFilter=${pass}&page=${page}&size=${LIST_PAGE_SIZE}&trash=False`);
      const raw = expectOk('lodgify', 'GET bookings', response);
      const items = typeof raw === 'object' && raw !== null && Array.isArray((raw as { items?: unknown }).items) ? ((raw as { items: unknown[] }).items) : undefined;
      if (!items) throw new RetryableError('lodgify: GET bookings did not answer {items: [...]}', undefined, 'invalid_response');
      const version = readVersion(now(), undefined);
      const reservations = items
        .map((item) => normaliseRead('lodgify', () => normaliseLodgifyBooking(item, undefined, connectionId, connection, version, 'booking')))
        .filter((r) => (!query.propertyId || r.propertyId === query.propertyId) && staysWithin(r, query));
      const next = items.length === LIST_PAGE_SIZE ? `${pass}:${page + 1}` : passIndex + 1 < LIST_PASSES.length ? `${LIST_PASSES[passIndex + 1]}:1` : undefined;
      return { reservations, ...(next ? { next } : {}) };
    },

    async checkCredentials() {
      // Lodgify ids are numbers: an id no booking has.
      expectProbeAccepted('lodgify', api.credentialsRef, await api.get('/v2/reservations/bookings/1'), [404]);
    },
  };
}
