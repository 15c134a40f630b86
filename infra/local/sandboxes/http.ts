import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';

/**
 * Small building blocks shared by every vendor sandbox: the request/reply shapes the
 * server hands to a vendor, JSON replies, body parsing, a path router and a rate limiter.
 * Nothing here knows about a particular vendor.
 */

/** One inbound request, already read in full. `path` is relative to the vendor's mount point. */
export interface SandboxRequest {
  method: string;
  /** Path below the mount point, e.g. `/v8/homes` for `/minut/v8/homes`. Always starts with `/`. */
  path: string;
  /** The full request path as received (without query string), for logs. */
  fullPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON; omitted (no body) when undefined, e.g. for 204. */
  body?: unknown;
}

/** Tells the server to destroy the socket without answering (simulates a lost response). */
export interface DropConnection {
  dropConnection: true;
}

export type SandboxReply = SandboxResponse | DropConnection;

export type SandboxHandler = (req: SandboxRequest) => Promise<SandboxReply> | SandboxReply;

/**
 * A vendor sandbox mounted by the server. The API lives under `prefix` (e.g. `/minut`);
 * the optional test controls live under `/_sandbox<prefix>` (e.g. `/_sandbox/minut`).
 * In both handlers `req.path` is relative to the respective mount point.
 */
export interface VendorSandbox {
  readonly prefix: string;
  handle: SandboxHandler;
  handleControl?: SandboxHandler;
}

export function isDropConnection(reply: SandboxReply): reply is DropConnection {
  return 'dropConnection' in reply;
}

export function jsonReply(status: number, body: unknown, headers?: Record<string, string>): SandboxResponse {
  return headers ? { status, body, headers } : { status, body };
}

export function noContent(): SandboxResponse {
  return { status: 204 };
}

/** The common error body: `{ status, message, error_key? }`; pass no key where the vendor sends none. */
export function errorReply(
  status: number,
  message: string,
  errorKey?: string,
  headers?: Record<string, string>,
): SandboxResponse {
  const body = errorKey === undefined ? { status, message } : { status, message, error_key: errorKey };
  return jsonReply(status, body, headers);
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaType(headers: IncomingHttpHeaders): string | undefined {
  return headerValue(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reply: SandboxResponse };

/** Parses the body as JSON; an empty body is `{}` so body-less control calls work. */
export function parseJsonBody(req: SandboxRequest, errorKey = 'invalid_request'): Parsed<unknown> {
  const text = req.body.toString('utf8');
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reply: errorReply(400, 'Request body is not valid JSON', errorKey) };
  }
}

/** Validates a value with a zod schema; a failure becomes a 400 whose message names each bad field. */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  value: unknown,
  errorKey = 'invalid_request',
): Parsed<z.output<S>> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, reply: errorReply(400, describeZodError(result.error), errorKey) };
}

/** JSON body + schema in one step (what every control route needs). */
export function parseJsonWithSchema<S extends z.ZodType>(
  req: SandboxRequest,
  schema: S,
  errorKey = 'invalid_request',
): Parsed<z.output<S>> {
  const json = parseJsonBody(req, errorKey);
  return json.ok ? parseWithSchema(schema, json.value, errorKey) : json;
}

export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

// ---------------------------------------------------------------------------------------------
// Router: `METHOD /pattern/:param` → handler. The pattern string doubles as the route key used
// in counters, so tests can assert on `POST /homes/:home_id/guests` without real ids.
// `Extra` is whatever per-request state the vendor passes to its handlers.

export type RouteContext<Extra extends object = object> = Extra & {
  req: SandboxRequest;
  params: Record<string, string>;
};

export type RouteHandler<Extra extends object = object> = (
  ctx: RouteContext<Extra>,
) => Promise<SandboxReply> | SandboxReply;

interface Route<Extra extends object> {
  method: string;
  pattern: string;
  segments: string[];
  handler: RouteHandler<Extra>;
}

export type RouteMatch<Extra extends object = object> =
  | { kind: 'found'; key: string; params: Record<string, string>; handler: RouteHandler<Extra> }
  | { kind: 'method-not-allowed'; key: string; allowed: string[] }
  | { kind: 'not-found' };

export class Router<Extra extends object = object> {
  private readonly routes: Route<Extra>[] = [];

  add(method: string, pattern: string, handler: RouteHandler<Extra>): this {
    this.routes.push({ method: method.toUpperCase(), pattern, segments: splitPath(pattern), handler });
    return this;
  }

  match(method: string, path: string): RouteMatch<Extra> {
    const segments = splitPath(path);
    const allowed: string[] = [];
    let patternKey: string | undefined;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method.toUpperCase()) {
        return { kind: 'found', key: `${route.method} ${route.pattern}`, params, handler: route.handler };
      }
      allowed.push(route.method);
      patternKey ??= route.pattern;
    }
    if (patternKey !== undefined) {
      return { kind: 'method-not-allowed', key: `${method.toUpperCase()} ${patternKey}`, allowed };
    }
    return { kind: 'not-found' };
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    const value = actual[index] ?? '';
    if (part.startsWith(':')) {
      try {
        params[part.slice(1)] = decodeURIComponent(value);
      } catch {
        return undefined; // malformed %-escape: treat as no match rather than throwing
      }
    } else if (part !== value) {
      return undefined;
    }
  }
  return params;
}

// ---------------------------------------------------------------------------------------------

export interface RateWindow {
  limit: number;
  windowMs: number;
}

export type RateDecision = { admitted: true } | { admitted: false; retryAfterMs: number };

/**
 * Rolling-window limiter keyed by caller (token, client id...), with one or more windows
 * (e.g. 5/s and 120/min). Only admitted requests are recorded, so a client that backs off for
 * the window length gets in again; counting rejected ones too would lock out a client that
 * retries slightly early.
 */
export class RollingWindowRateLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly longestWindowMs: number;

  constructor(private readonly windows: readonly RateWindow[]) {
    this.longestWindowMs = Math.max(0, ...windows.map((window) => window.windowMs));
  }

  tryAcquire(key: string, nowMs: number): RateDecision {
    const recent = (this.hits.get(key) ?? []).filter((at) => at > nowMs - this.longestWindowMs);
    this.hits.set(key, recent);
    let retryAfterMs = 0;
    for (const window of this.windows) {
      const inWindow = recent.filter((at) => at > nowMs - window.windowMs);
      const oldest = inWindow[0];
      if (inWindow.length >= window.limit && oldest !== undefined) {
        retryAfterMs = Math.max(retryAfterMs, oldest + window.windowMs - nowMs);
      }
    }
    if (retryAfterMs > 0) return { admitted: false, retryAfterMs };
    recent.push(nowMs);
    return { admitted: true };
  }

  clear(): void {
    this.hits.clear();
  }
}

/**
 * A limiter for `perSecond` and/or `perMinute` (either may be absent); null when neither is set.
 * `timeScale` shortens the windows, keeping their limits (the benchmark drains a backlog 6x faster).
 */
export function rateLimiterFor(limit: { perSecond?: number | null; perMinute?: number | null } | null, timeScale = 1): RollingWindowRateLimiter | null {
  const windows: RateWindow[] = [];
  if (limit?.perSecond) windows.push({ limit: limit.perSecond, windowMs: 1000 / timeScale });
  if (limit?.perMinute) windows.push({ limit: limit.perMinute, windowMs: 60_000 / timeScale });
  return windows.length > 0 ? new RollingWindowRateLimiter(windows) : null;
}
