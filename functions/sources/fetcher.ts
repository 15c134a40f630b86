import { randomUUID } from 'node:crypto';
import type { Config, ConnectionConfig, PmsApiConfig, PmsType } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import { HttpClient } from '../core/http-client.ts';
import { own } from '../core/own.ts';
import { QUEUE_SCHEMA_VERSION, type ClientRefMessage, type ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import type { SecretStore } from '../core/secrets.ts';
import type { Store } from '../core/store.ts';

/**
 * Notify-then-fetch: for PMSs whose webhooks carry only ids (Guesty v2) or no guest data
 * (Guesty legacy, Smily), the sync worker, never ingest, reads the rest from the PMS API.
 * One Fetcher per connection (its own credentials and pacing). Any failure is thrown, as a
 * RetryableError where it has a cause worth naming: the message is retried with backoff and
 * reaches the DLQ if it keeps failing.
 */
export interface Fetcher {
  /**
   * The full reservation a thin event is about. `stored` is the snapshot sync holds, if any
   * (for an event whose reservation is gone from the PMS). Null: nothing to sync.
   */
  fetchReservation(ref: ReservationRefMessage, stored: Reservation | undefined): Promise<Reservation | null>;
  /** The upcoming reservations of a PMS guest record that changed, with the new guest data. */
  fetchClientReservations?(ref: ClientRefMessage): Promise<Reservation[]>;
  /**
   * `guest-sync config check`: proves the API credentials with one read-only request (a read of
   * a reservation that does not exist: "not found" means the credentials were accepted). Throws
   * naming the secret when they are refused; a string explains why nothing was checked.
   */
  checkCredentials?(): Promise<string | void>;
  /**
   * Backfill: one page of the reservations staying in [from, to] (local dates; in-house and
   * upcoming), of one property or the whole account; `cursor` is the `next` of the page before.
   * Versions must order with the webhooks' (a read is the current state).
   */
  listReservations?(query: ListQuery): Promise<ReservationPage>;
}

export interface ListQuery {
  propertyId?: string;
  /** YYYY-MM-DD: stays that end on or after it. */
  from: string;
  /** YYYY-MM-DD: stays that start on or before it. */
  to: string;
  cursor?: string;
}

export interface ReservationPage {
  reservations: Reservation[];
  /** The cursor of the next page; absent on the last one. */
  next?: string;
  /** How many there are in all, when the API says. */
  total?: number;
}

/** A cursor this release did not make (a message from another release, or tampered with): the page is retried, and says why. */
export function invalidCursor(name: string, cursor: string | undefined): RetryableError {
  return new RetryableError(`${name}: backfill cursor "${cursor}" is not one this release makes`, undefined, 'invalid_cursor');
}

/** The page number a page-numbered list's cursor holds (the first page when there is none). */
export function pageNumberCursor(name: string, query: Pick<ListQuery, 'cursor'>): number {
  const page = Number(query.cursor ?? '1');
  if (!Number.isInteger(page) || page < 1) throw invalidCursor(name, query.cursor);
  return page;
}

/**
 * Backfill from a list whose items lack guest contact (Cloudbeds, Guesty): each listed reservation
 * is read again the way a webhook's is, and kept when its stay is in the window. One gone between
 * the list and the read (a 404) is skipped; any other failure retries the page.
 */
export async function readListed(fetcher: Fetcher, connectionId: string, listed: { reservationId: string; propertyId?: string }[], query: Pick<ListQuery, 'from' | 'to'>, now: () => number): Promise<Reservation[]> {
  const reservations: Reservation[] = [];
  for (const { reservationId, propertyId } of listed) {
    const ref: ReservationRefMessage = { v: QUEUE_SCHEMA_VERSION, kind: 'reservation_ref', connectionId, deliveryId: 'backfill', receivedAt: now(), reservationId, ...(propertyId !== undefined ? { propertyId } : {}), hints: {} };
    const full = await fetcher.fetchReservation(ref, undefined).catch((error: unknown) => {
      if (error instanceof RetryableError && error.code === 'http_404') return null;
      throw error;
    });
    if (full && staysWithin(full, query)) reservations.push(full);
  }
  return reservations;
}

/** Whether a stay overlaps [from, to] (local dates), for APIs that cannot filter by both ends. */
export function staysWithin(reservation: Reservation, query: Pick<ListQuery, 'from' | 'to'>): boolean {
  return reservation.stay.checkOutDate >= query.from && reservation.stay.checkInDate <= query.to;
}

export interface FetcherDeps {
  config: Config;
  secrets: SecretStore;
  /** For the OAuth token shared by every worker. */
  store: Store;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  instanceId?: string;
}

export type FetcherFactory = (connectionId: string, connection: ConnectionConfig, deps: FetcherDeps) => Fetcher;

/**
 * What every PMS reader starts from: the connection's API config (required), its base URL, the
 * worker's id and an HTTP client paced per connection and worker.
 */
export function pmsApiClient(
  name: string,
  connectionId: string,
  connection: ConnectionConfig,
  deps: FetcherDeps,
  defaultRequestsPerSecond: number,
): { api: PmsApiConfig; baseUrl: string; instanceId: string; http: HttpClient } {
  const api = connection.api;
  if (!api) throw new Error(`connections.${connectionId}.api is required for ${name}`);
  const instanceId = deps.instanceId ?? randomUUID().slice(0, 8);
  const http = new HttpClient({
    name,
    requestsPerSecond: api.requestsPerSecond ?? defaultRequestsPerSecond,
    userAgent: `guest-sync (${instanceId})`,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  return { api, baseUrl: api.baseUrl.replace(/\/+$/, ''), instanceId, http };
}

/** Looks up (and builds once) the fetcher of a connection; undefined when its PMS never fetches. */
export type FetcherLookup = (connectionId: string) => Fetcher | undefined;

export function fetcherLookup(factories: Partial<Record<PmsType, FetcherFactory>>, deps: FetcherDeps): FetcherLookup {
  const built = new Map<string, Fetcher>();
  return (connectionId) => {
    const existing = built.get(connectionId);
    if (existing) return existing;
    const connection = own(deps.config.connections, connectionId);
    const factory = connection ? own(factories, connection.pms) : undefined;
    // No API configured (optional for Hostaway): nothing to read from.
    if (!connection || !factory || !connection.api) return undefined;
    const fetcher = factory(connectionId, connection, deps);
    built.set(connectionId, fetcher);
    return fetcher;
  };
}
