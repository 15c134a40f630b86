import { headerValue, type SandboxRequest, type SandboxResponse } from './http.ts';

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

/** The log entry for an answered request: its route, status, Retry-After, caller and replay flag. */
export function requestLogEntry(req: SandboxRequest, at: number, route: string, reply: SandboxResponse, droppedConnection = false): RequestLogEntry {
  const retryAfter = Number(reply.headers?.['Retry-After']);
  const userAgent = headerValue(req.headers, 'user-agent');
  const replayed = reply.headers?.['Idempotent-Replayed'] === 'true';
  return {
    at,
    method: req.method,
    path: req.fullPath,
    route,
    status: reply.status,
    ...(Number.isFinite(retryAfter) && { retryAfter }),
    ...(userAgent && { userAgent }),
    ...(replayed && { idempotentReplay: true as const }),
    ...(droppedConnection && { droppedConnection: true as const }),
  };
}

/**
 * Lost responses on demand: the next `count` successful writes whose path contains
 * `pathIncludes` are processed, then answered by a dropped connection. Replays from the
 * idempotency cache are answered normally: they did nothing new.
 */
export class LostResponses {
  private pending: { pathIncludes: string; remaining: number }[] = [];

  add(pathIncludes: string, count = 1): void {
    this.pending.push({ pathIncludes, remaining: count });
  }

  /** Whether this processed request loses its response (and uses up one of the pending drops). */
  take(req: SandboxRequest, reply: SandboxResponse): boolean {
    if (req.method === 'GET' || reply.status >= 300 || reply.headers?.['Idempotent-Replayed'] === 'true') return false;
    const drop = this.pending.find((d) => d.remaining > 0 && req.fullPath.includes(d.pathIncludes));
    if (drop) drop.remaining -= 1;
    return drop !== undefined;
  }

  clear(): void {
    this.pending = [];
  }
}
