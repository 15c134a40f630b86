/**
 * What a sandbox saw: a request log and per-route counters, so tests can assert on the
 * calls a client made (pacing, retries, Retry-After handling). Never holds request bodies,
 * so guest names, emails and phone numbers stay out of it.
 */

export interface RequestLogEntry {
  /** Sandbox clock, ms since the epoch. */
  at: number;
  method: string;
  /** Full request path without the query string, e.g. `/minut/v8/homes/h1/guests`. */
  path: string;
  /** Route key such as `POST /homes/:home_id/guests`, or `GET <unmatched>`. */
  route: string;
  status: number;
  /** `Retry-After` seconds, when the reply carried one. */
  retryAfter?: number;
  userAgent?: string;
  /** Bearer token the request presented (sandbox tokens are random and worthless outside it). */
  token?: string;
  /** OAuth client id, for token requests with valid client credentials. */
  clientId?: string;
  /** The request was processed but the socket was destroyed instead of answering. */
  droppedConnection?: true;
  /** Answered from the idempotency cache (same key, same body as an earlier request). */
  idempotentReplay?: true;
}

export interface RouteCounters {
  requests: number;
  byRoute: Record<string, number>;
}

/** Bounds memory on a long-running local stack; counters stay exact beyond it. */
const MAX_LOG_ENTRIES = 10_000;

export class TrafficRecorder {
  private log: RequestLogEntry[] = [];
  private requests = 0;
  private byRoute: Record<string, number> = {};

  record(entry: RequestLogEntry): void {
    this.log.push(entry);
    if (this.log.length > MAX_LOG_ENTRIES) this.log.shift();
    this.requests += 1;
    this.byRoute[entry.route] = (this.byRoute[entry.route] ?? 0) + 1;
  }

  entries(): RequestLogEntry[] {
    return this.log.map((entry) => ({ ...entry }));
  }

  counters(): RouteCounters {
    return { requests: this.requests, byRoute: { ...this.byRoute } };
  }

  clear(): void {
    this.log = [];
    this.requests = 0;
    this.byRoute = {};
  }
}
