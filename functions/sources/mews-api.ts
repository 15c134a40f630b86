import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import type { HttpResponse } from '../core/http-client.ts';
import type { ClientRefMessage, ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import { pmsApiClient, invalidCursor, staysWithin, type Fetcher, type FetcherDeps, type ListQuery, type ReservationPage } from './fetcher.ts';
import { normaliseMewsReservation, type AgeClassifications } from './mews.ts';
import { expectOk } from './pms-oauth.ts';
import { expectProbeAccepted, goneReservation, normaliseRead } from './reread.ts';
import { isObject } from '../core/own.ts';

/**
 * Reads from the Mews Connector API (`https://api.mews.com`): every call is
 * `POST /api/connector/v1/<resource>/<action>` with `ClientToken` (the integration's),
 * `AccessToken` (the enterprise's: credentials per property) and `Client` in the JSON body.
 * - `reservations/getAll/2023-06-06` with `ReservationIds` (there is no get-by-id; an unknown
 *   id is an empty list, which cancels what was synced);
 * - `customers/getAll` for the guest (`AccountId` when `AccountType` is `Customer`);
 * - `ageCategories/getAll` once per enterprise (cached an hour) to split `PersonCounts` into
 *   adults and children.
 * Mews allows 200 requests per AccessToken per 30 s; the default 2/s per connection and worker
 * stays under it. 429s carry `Retry-After`, honoured by the HTTP client.
 */

const DEFAULT_REQUESTS_PER_SECOND = 2;
const CLIENT = 'guest-sync 1.0.0';
const AGE_CATEGORY_TTL_MS = 3_600_000;
/** A customer's upcoming reservations: those ending in the next 3 months (Mews' longest interval). */
const CUSTOMER_WINDOW_MS = 90 * 86_400_000;
const PAGE_SIZE = 100;
/** Backfill windows: Mews allows time intervals of at most 3 months. */
const LIST_WINDOW_MS = 90 * 86_400_000;
const MAX_PAGES = 10;

const MewsCredentials = z.union([
  z.object({ clientToken: z.string().check(z.minLength(1)), accessTokens: z.record(z.string(), z.string().check(z.minLength(1))) }),
  z.object({ clientToken: z.string().check(z.minLength(1)), accessToken: z.string().check(z.minLength(1)) }),
]);

export function createMewsFetcher(connectionId: string, connection: ConnectionConfig, deps: FetcherDeps): Fetcher {
  const { api, baseUrl, http } = pmsApiClient('mews', connectionId, connection, deps, DEFAULT_REQUESTS_PER_SECOND);
  const now = deps.now ?? Date.now;
  const ageCache = new Map<string, { at: number; ages: AgeClassifications }>();

  /** A read-only operation for one enterprise (its AccessToken). */
  const call = async (operation: string, enterpriseId: string, body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const secret = MewsCredentials.safeParse(await deps.secrets.get(api.credentials));
    if (!secret.success) throw new RetryableError(`mews: secret "${api.credentials}" must hold {"clientToken","accessTokens":{"<EnterpriseId>":"..."}}`, undefined, 'invalid_credentials_secret');
    const accessToken = 'accessToken' in secret.data ? secret.data.accessToken : Object.hasOwn(secret.data.accessTokens, enterpriseId) ? secret.data.accessTokens[enterpriseId] : undefined;
    if (!accessToken) throw new RetryableError(`mews: secret "${api.credentials}" has no access token for enterprise ${enterpriseId}`, undefined, 'no_access_token');
    let response: HttpResponse;
    try {
      response = await http.request({
        method: 'POST',
        url: `${baseUrl}/api/connector/v1/${operation}`,
        body: { ClientToken: secret.data.clientToken, AccessToken: accessToken, Client: CLIENT, ...body },
        idempotent: true, // reads
      });
    } catch (error) {
      if (error instanceof RetryableError) throw new RetryableError(`${error.message} (${operation})`, error.retryAfterSeconds, error.code, { cause: error });
      throw error;
    }
    const json = expectOk('mews', operation, response);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RetryableError(`mews: ${operation} did not answer a JSON object`, undefined, 'invalid_response');
    return json as Record<string, unknown>;
  };

  const ageCategories = async (enterpriseId: string): Promise<AgeClassifications> => {
    const cached = ageCache.get(enterpriseId);
    if (cached && now() - cached.at < AGE_CATEGORY_TTL_MS) return cached.ages;
    const json = await call('ageCategories/getAll', enterpriseId, { EnterpriseIds: [enterpriseId], ActivityStates: ['Active', 'Deleted'], Limitation: { Count: 1000 } });
    const ages = new Map<string, string>();
    for (const category of Array.isArray(json.AgeCategories) ? json.AgeCategories : []) {
      if (isObject(category) && typeof category.Id === 'string' && typeof category.Classification === 'string') ages.set(category.Id, category.Classification);
    }
    ageCache.set(enterpriseId, { at: now(), ages });
    return ages;
  };

  const customer = async (raw: Record<string, unknown>, enterpriseId: string): Promise<Record<string, unknown> | null> => {
    if (raw.AccountType !== undefined && raw.AccountType !== 'Customer') return null; // a company holds no guest data
    if (typeof raw.AccountId !== 'string' || raw.AccountId === '') return null;
    const json = await call('customers/getAll', enterpriseId, { CustomerIds: [raw.AccountId], Extent: { Customers: true, Addresses: false }, Limitation: { Count: 1 } });
    const found = Array.isArray(json.Customers) ? json.Customers.find((c) => isObject(c) && c.Id === raw.AccountId) : undefined;
    return isObject(found) ? found : null;
  };

  const normalise = (raw: Record<string, unknown>, guest: Record<string, unknown> | null, ages: AgeClassifications, enterpriseId: string) =>
    normaliseRead('mews', () => normaliseMewsReservation(raw, guest, ages, enterpriseId, connectionId, connection, 'reservation'));

  const enterpriseOf = (message: ReservationRefMessage | ClientRefMessage): string => {
    const hinted = typeof message.hints.enterpriseId === 'string' ? message.hints.enterpriseId : undefined;
    const id = ('propertyId' in message ? message.propertyId : undefined) ?? hinted;
    if (!id) throw new RetryableError('mews: the event names no enterprise', undefined, 'no_enterprise');
    return id;
  };

  return {
    async fetchReservation(ref: ReservationRefMessage, stored: Reservation | undefined): Promise<Reservation | null> {
      const enterpriseId = enterpriseOf(ref);
      const json = await call('reservations/getAll/2023-06-06', enterpriseId, { ReservationIds: [ref.reservationId], EnterpriseIds: [enterpriseId], Limitation: { Count: 10 } });
      const raw = Array.isArray(json.Reservations) ? json.Reservations.find((r) => isObject(r) && r.Id === ref.reservationId) : undefined;
      if (!isObject(raw)) return goneReservation(ref, stored, now()); // Mews answers an unknown id with an empty list
      const [ages, guest] = await Promise.all([ageCategories(enterpriseId), customer(raw, enterpriseId)]);
      return normalise(raw, guest, ages, enterpriseId);
    },

    /** One read per enterprise: each has its own access token. */
    async checkCredentials() {
      for (const enterpriseId of Object.keys(connection.properties)) {
        try {
          await call('reservations/getAll/2023-06-06', enterpriseId, { ReservationIds: ['00000000-0000-0000-0000-000000000000'], EnterpriseIds: [enterpriseId], Limitation: { Count: 1 } });
        } catch (error) {
          const status = error instanceof RetryableError && /^http_(\d+)$/.exec(error.code)?.[1];
          if (status) expectProbeAccepted(`mews (enterprise ${enterpriseId})`, api.credentials, { status: Number(status), headers: new Headers(), json: undefined });
          throw error;
        }
      }
    },

    /**
     * Backfill: `reservations/getAll/2023-06-06` with `CollidingUtc` (stays overlapping the
     * interval) in windows of 90 days (Mews allows 3 months), per enterprise (the property asked
     * for, else each configured one: every enterprise has its own token), 100 a page on Mews'
     * cursor. The cursor is `<enterprise>:<window>:<Mews cursor>`. A stay that spans two windows
     * is listed twice; queueing it twice changes nothing.
     */
    async listReservations(query: ListQuery): Promise<ReservationPage> {
      const enterprises = query.propertyId ? [query.propertyId] : Object.keys(connection.properties).sort();
      const [enterpriseText = '0', windowText = '0', ...rest] = (query.cursor ?? '0:0:').split(':');
      const enterpriseIndex = Number(enterpriseText);
      const windowIndex = Number(windowText);
      if (!Number.isInteger(enterpriseIndex) || !Number.isInteger(windowIndex)) throw invalidCursor('mews', query.cursor);
      const enterpriseId = enterprises[enterpriseIndex];
      if (enterpriseId === undefined) return { reservations: [] };
      const start = Date.parse(`${query.from}T00:00:00Z`) + windowIndex * LIST_WINDOW_MS;
      const end = Date.parse(`${query.to}T00:00:00Z`) + 86_400_000;
      const windowEnd = Math.min(start + LIST_WINDOW_MS, end);
      const mewsCursor = rest.join(':');
      const json = await call('reservations/getAll/2023-06-06', enterpriseId, {
        EnterpriseIds: [enterpriseId],
        CollidingUtc: { StartUtc: new Date(start).toISOString(), EndUtc: new Date(windowEnd).toISOString() },
        Limitation: { Count: PAGE_SIZE, ...(mewsCursor ? { Cursor: mewsCursor } : {}) },
      });
      const items = (Array.isArray(json.Reservations) ? json.Reservations : []).filter(isObject);
      const ages = items.length > 0 ? await ageCategories(enterpriseId) : new Map<string, string>();
      const guests = new Map<string, Promise<Record<string, unknown> | null>>();
      const reservations: Reservation[] = [];
      for (const raw of items) {
        const account = typeof raw.AccountId === 'string' ? raw.AccountId : '';
        if (!guests.has(account)) guests.set(account, customer(raw, enterpriseId));
        const reservation = normalise(raw, await guests.get(account)!, ages, enterpriseId);
        if (staysWithin(reservation, query)) reservations.push(reservation);
      }
      const nextCursor = typeof json.Cursor === 'string' && json.Cursor !== '' && items.length === PAGE_SIZE ? json.Cursor : undefined;
      const next = nextCursor
        ? `${enterpriseIndex}:${windowIndex}:${nextCursor}`
        : windowEnd < end
          ? `${enterpriseIndex}:${windowIndex + 1}:`
          : enterpriseIndex + 1 < enterprises.length
            ? `${enterpriseIndex + 1}:0:`
            : undefined;
      return { reservations, ...(next ? { next } : {}) };
    },

    async fetchClientReservations(ref: ClientRefMessage): Promise<Reservation[]> {
      const enterpriseId = enterpriseOf(ref);
      const list: Record<string, unknown>[] = [];
      let cursor: string | undefined;
      // Cursor paging (the cursor is the last item of the previous page), bounded like every list.
      for (let page = 0; page < MAX_PAGES; page++) {
        const json = await call('reservations/getAll/2023-06-06', enterpriseId, {
          AccountIds: [ref.clientId],
          EnterpriseIds: [enterpriseId],
          ScheduledEndUtc: { StartUtc: new Date(now()).toISOString(), EndUtc: new Date(now() + CUSTOMER_WINDOW_MS).toISOString() },
          Limitation: { Count: PAGE_SIZE, ...(cursor ? { Cursor: cursor } : {}) },
        });
        const items = (Array.isArray(json.Reservations) ? json.Reservations : []).filter(isObject);
        list.push(...items);
        cursor = typeof json.Cursor === 'string' && json.Cursor !== '' ? json.Cursor : undefined;
        if (!cursor || items.length < PAGE_SIZE) break;
      }
      if (list.length === 0) return [];
      const [ages, guest] = await Promise.all([ageCategories(enterpriseId), customer(list[0]!, enterpriseId)]);
      return list.map((raw) => normalise(raw, raw.AccountId === ref.clientId ? guest : null, ages, enterpriseId));
    },
  };
}
