import * as z from '../core/zod.ts';
import type { ConnectionConfig } from '../core/config.ts';
import { RetryableError, WebhookError } from '../core/errors.ts';
import type { HttpResponse } from '../core/http-client.ts';
import type { ReservationRefMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import { expectAccepted } from '../targets/credential-check.ts';
import { pmsApiClient, type FetcherDeps } from './fetcher.ts';

/** The id config check asks for: no PMS has it, so "not found" proves the credentials were accepted. */
export const PROBE_ID = 'guest-sync-credential-check';

/** Throws (naming the secret) unless the answer to a probe shows the credentials were accepted. */
export function expectProbeAccepted(name: string, credentialsRef: string, response: HttpResponse, accepted: number[] = [404]): void {
  expectAccepted(name, credentialsRef, response, 'a read of a reservation that does not exist', accepted);
}

/**
 * What the readers of PMSs with no usable ordering key share (Lodgify, Smoobu): the webhook is
 * only a hint, the reservation is re-read from the API, and a re-read is the current state.
 * Reads of one reservation run one after another in its FIFO group, so "when it was read"
 * orders them: the version is the read time, and always past the stored snapshot's (a clock
 * a few ms behind on another worker cannot make a newer read look older).
 */
export function readVersion(readAt: number, stored: Reservation | undefined): number {
  return Math.max(readAt, (stored?.sourceVersion ?? 0) + 1);
}

/** A reservation the API no longer has (deleted): its last known state, cancelled; null if never synced. */
export function goneReservation(ref: ReservationRefMessage, stored: Reservation | undefined, version: number): Reservation | null {
  const base = stored ?? ref.partial;
  if (!base) return null;
  return { ...base, status: 'cancelled', sourceStatus: 'deleted', sourceVersion: Math.max(version, (stored?.sourceVersion ?? 0) + 1) };
}

/** An API answer that does not normalise is the PMS's fault, and retried: the booking may be mid-edit. */
export function normaliseRead<T>(name: string, normalise: () => T, what = 'reservation'): T {
  try {
    return normalise();
  } catch (error) {
    if (error instanceof WebhookError) throw new RetryableError(`${name}: the ${what} from the API is unusable: ${error.message}`, undefined, 'invalid_response');
    throw error;
  }
}

const ApiKeySecret = z.union([z.object({ apiKey: z.string().check(z.minLength(1)) }), z.object({ accessToken: z.string().check(z.minLength(1)) })]);

export interface ApiKeyReaderOptions {
  /** Names the PMS in errors, e.g. "lodgify". */
  name: string;
  connectionId: string;
  connection: ConnectionConfig;
  deps: FetcherDeps;
  defaultRequestsPerSecond: number;
  /** Lower-case header the key goes in; `authorization` sends `Bearer <key>`. */
  header: string;
}

/** GETs against a PMS API authenticated by a static key (`{"apiKey"}` or `{"accessToken"}` in the secret), paced per connection. */
export function apiKeyReader(options: ApiKeyReaderOptions): { baseUrl: string; credentialsRef: string; get: (path: string) => Promise<HttpResponse> } {
  const { api, baseUrl, http } = pmsApiClient(options.name, options.connectionId, options.connection, options.deps, options.defaultRequestsPerSecond);
  const get = async (path: string): Promise<HttpResponse> => {
    const secret = ApiKeySecret.safeParse(await options.deps.secrets.get(api.credentials));
    if (!secret.success) throw new RetryableError(`${options.name}: secret "${api.credentials}" must hold {"apiKey"} or {"accessToken"}`, undefined, 'invalid_credentials_secret');
    const key = 'apiKey' in secret.data ? secret.data.apiKey : secret.data.accessToken;
    const value = options.header === 'authorization' ? `Bearer ${key}` : key;
    try {
      return await http.request({ method: 'GET', url: `${baseUrl}${path}`, headers: { [options.header]: value, accept: 'application/json' } });
    } catch (error) {
      // Name the call (ids only), so the recorded reason says which read failed.
      if (error instanceof RetryableError) throw new RetryableError(`${error.message} (GET ${path.split('?')[0]})`, error.retryAfterSeconds, error.code, { cause: error });
      throw error;
    }
  };
  return { baseUrl, credentialsRef: api.credentials, get };
}
