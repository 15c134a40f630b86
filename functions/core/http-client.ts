import type { IncomingMessage } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { HttpRequest as SmithyRequest } from '@smithy/core/protocols';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { BudgetExceededError, remainingMs, sleepWithinBudget } from './budget.ts';
import { RetryableError } from './errors.ts';
import type { RateShareLike } from './rate-share.ts';

/**
 * Calls to a target or PMS API, one client per API per worker. It paces requests below
 * the API's rate limit, honours Retry-After (every later request from this worker waits
 * until then; short waits are taken in the function, longer ones are handed back at once as
 * a RetryableError carrying the wait, which sync turns into "pending, retry at T"), and
 * retries 5xx, timeouts and network errors with backoff where the request is safe to repeat.
 * Every wait and every request timeout is capped by the invocation's time budget (budget.ts).
 */

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** A JSON value, or a ready string (form bodies). */
  body?: unknown;
  /** Whether a repeat after a lost response is harmless. Defaults to true except for POST. */
  idempotent?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  json: unknown;
}

export interface ResponseHeaders {
  /** A header's value (several joined by commas), or null; the name in any case. */
  get(name: string): string | null;
}

/** Sends one request; `signal` ends it, the body's reading included. */
export type Transport = (request: TransportRequest, signal: AbortSignal) => Promise<TransportResponse>;

export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface TransportResponse {
  status: number;
  headers: ResponseHeaders;
  text(): Promise<string>;
  /** Reads the body away unseen, so the connection can be reused. */
  discard(): void;
}

export interface HttpClientOptions {
  /** Names the API in errors and metrics, e.g. "minut". */
  name: string;
  requestsPerSecond?: number;
  /** Requests that may start back to back before the pacing applies (a token bucket); default 1. */
  burst?: number;
  /** Retry-After waits up to this long are taken in the function (default MAX_INLINE_WAIT_MS). */
  maxInlineWaitMs?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  userAgent?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  transport?: Transport;
  /** This worker's part of the account's rate (rate-share.ts); the whole rate when absent. */
  share?: RateShareLike;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HttpClient {
  private blockedUntil = 0;
  private nextSlot = 0;
  private lastIntervalMs = 0;
  /** Requests of this worker waiting for their turn right now. */
  private waiting = 0;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly transport: Transport;

  constructor(private readonly options: HttpClientOptions) {
    this.minIntervalMs = options.requestsPerSecond ? 1000 / options.requestsPerSecond : 0;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.transport = options.transport ?? nodeTransport;
  }

  /** The account's interval between calls at its configured rate (ms); 0 when the client does not pace. */
  get turnMs(): number {
    return this.minIntervalMs;
  }

  /** Per-request timeout and attempts: what a lease around a call must outlive. */
  get timeoutMs(): number {
    return this.options.timeoutMs ?? 10_000;
  }
  get maxAttempts(): number {
    return this.options.maxAttempts ?? 3;
  }
  private get maxInlineWaitMs(): number {
    return this.options.maxInlineWaitMs ?? MAX_INLINE_WAIT_MS;
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    const maxAttempts = this.maxAttempts;
    const idempotent = request.idempotent ?? request.method !== 'POST';
    for (let attempt = 1; ; attempt++) {
      await this.waitForTurn(request);
      const left = remainingMs();
      if (left < MIN_REQUEST_MS) throw new BudgetExceededError(`call ${this.options.name}`);
      let response: TransportResponse;
      let text: string | undefined;
      const signal = AbortSignal.timeout(Math.min(this.timeoutMs, left));
      try {
        response = await this.transport(
          {
            method: request.method,
            url: request.url,
            headers: {
              accept: 'application/json',
              ...(request.body !== undefined && typeof request.body !== 'string' ? { 'content-type': 'application/json' } : {}),
              ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
              ...request.headers,
            },
            ...(request.body === undefined ? {} : { body: typeof request.body === 'string' ? request.body : JSON.stringify(request.body) }),
          },
          signal,
        );
        if (response.status === 429 || response.status >= 500) response.discard();
        else text = await response.text();
      } catch (error) {
        // The request may or may not have been applied: repeat it only if that is harmless.
        if (idempotent && attempt < maxAttempts) {
          await sleepWithinBudget(backoffMs(attempt), this.sleep, `retry ${this.options.name}`);
          continue;
        }
        const timedOut = signal.aborted;
        throw new RetryableError(
          `${this.options.name}: ${request.method} ${timedOut ? 'timed out' : 'failed without a response'} (${(error as Error).message})`,
          undefined,
          timedOut ? 'timeout' : 'network_error',
          { cause: error },
        );
      }

      if (text === undefined) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'), this.now());
        if (retryAfter !== undefined) this.blockedUntil = Math.max(this.blockedUntil, this.now() + retryAfter * 1000);
        const waitMs = retryAfter !== undefined ? retryAfter * 1000 : backoffMs(attempt);
        const canRepeat = response.status === 429 || idempotent || response.status === 503;
        if (canRepeat && attempt < maxAttempts && waitMs <= this.maxInlineWaitMs && waitMs < remainingMs() - MIN_REQUEST_MS) {
          if (retryAfter === undefined) await this.sleep(waitMs);
          continue; // waitForTurn honours blockedUntil
        }
        throw new RetryableError(
          `${this.options.name}: ${request.method} answered ${response.status}`,
          retryAfter,
          response.status === 429 ? 'rate_limited' : `http_${response.status}`,
        );
      }

      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, json };
    }
  }

  /**
   * About how long a request asked for now would wait for its turn behind this worker's own
   * waiting requests and a Retry-After, at this worker's last known share of the rate. Sync hands
   * a target's work to its lane when this is long, so one target's pace holds no other back.
   */
  async pacingWaitMs(): Promise<number> {
    const now = this.now();
    const blocked = Math.max(0, this.blockedUntil - now);
    if (this.minIntervalMs <= 0) return blocked;
    const intervalMs = this.lastIntervalMs || this.minIntervalMs;
    const own = Math.max(blocked, Math.max(0, this.nextSlot - now) + this.waiting * intervalMs);
    // Without a share of the account's rate, a first call waits to be admitted while another worker is busy.
    const join = (await this.options.share?.joinWaitMs?.()) ?? 0;
    return Math.max(own, join);
  }

  /** This worker stops calling the API for a while (a lane has its work): its part of the account's rate goes to the others. */
  async releaseShare(): Promise<void> {
    await this.options.share?.release?.();
  }

  /** The same, when another worker was busy on the account at the last count (an idle lease would hold its rate back). */
  async releaseShareIfContended(): Promise<void> {
    await this.options.share?.releaseIfContended?.();
  }

  /**
   * Serialises request starts: at most this worker's share of `requestsPerSecond` on average
   * with up to its share of `burst` at once (GCRA: `nextSlot` is the theoretical time of the
   * next request), and none before a Retry-After ends.
   */
  private async waitForTurn(request: HttpRequest): Promise<void> {
    this.waiting++;
    try {
      await this.takeTurn(request);
    } finally {
      this.waiting--;
    }
  }

  private async takeTurn(request: HttpRequest): Promise<void> {
    let waited = false;
    for (;;) {
      let fraction = 1;
      if (this.options.share && this.minIntervalMs > 0) {
        const share = await this.options.share.share();
        if (share.fraction <= 0) {
          // Not yet counted by the other workers calling this account: wait until they are.
          if (share.waitMs + MIN_REQUEST_MS > remainingMs()) throw new BudgetExceededError(`wait for a share of ${this.options.name}'s rate`, Math.ceil(share.waitMs / 1000));
          await this.sleep(share.waitMs);
          continue;
        }
        fraction = share.fraction;
      }
      // This worker's part of the rate and of the burst: the workers' parts add up to the account's.
      const intervalMs = this.minIntervalMs / fraction;
      const burst = Math.max(1, Math.floor((this.options.burst ?? 1) * fraction));
      const toleranceMs = (burst - 1) * intervalMs;
      const now = this.now();
      // A worker's first call, when it shares the account: at a random point of its interval, so
      // workers that start together (or wait on the same shared token) do not all call at once.
      if (this.nextSlot === 0 && fraction < 1) this.nextSlot = now + Math.random() * intervalMs + toleranceMs;
      // A new share applies from the last call on: the next slot moves by the change of interval.
      else if (this.nextSlot > 0 && this.lastIntervalMs > 0 && intervalMs !== this.lastIntervalMs) this.nextSlot += intervalMs - this.lastIntervalMs;
      this.lastIntervalMs = intervalMs;
      // A Retry-After longer than a short inline wait is not slept through: the caller parks the work.
      const blockedFor = this.blockedUntil - now;
      if (blockedFor > this.maxInlineWaitMs) {
        throw new RetryableError(`${this.options.name}: rate limited for ${Math.ceil(blockedFor / 1000)} s more (${request.method})`, Math.ceil(blockedFor / 1000), 'rate_limited');
      }
      const start = Math.max(now, this.nextSlot - toleranceMs, this.blockedUntil);
      if (start <= now) {
        this.nextSlot = Math.max(now, this.nextSlot) + intervalMs;
        this.options.share?.noteTurn(waited);
        return;
      }
      waited = true;
      // The turn must still leave time for the request itself.
      if (start - now + MIN_REQUEST_MS > remainingMs()) throw new BudgetExceededError(`wait for a turn at ${this.options.name}`, Math.ceil((start - now) / 1000));
      await this.sleep(start - now);
    }
  }
}

// One handler per process, so every client shares its keep-alive connections. It is the one the
// AWS SDK uses, on Node's http and https; `fetch` would load its own implementation (undici),
// about 25 ms of a cold start.
const handler = new NodeHttpHandler();

/** The transport on Node's http and https; it follows redirects as fetch does. */
export const nodeTransport: Transport = async (request, signal) => {
  try {
    let current = request;
    for (let hops = 0; ; hops++) {
      const response = await send(current, signal);
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || location === null || hops === MAX_REDIRECTS) return response;
      response.discard();
      current = redirected(current, response.status, new URL(location, current.url));
    }
  } catch (error) {
    throw timeoutOr(error, signal);
  }
};

/** An error after the signal fired is the timeout (the handler names a reset connection a timeout too). */
function timeoutOr(error: unknown, signal: AbortSignal): unknown {
  return signal.aborted && signal.reason instanceof Error ? signal.reason : error;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * The request a redirect asks for, by fetch's rules: 307 and 308 repeat it as it was, a 303 (and a
 * 301 or 302 after a POST) becomes a GET without the body; credentials never go to another origin.
 */
function redirected(request: TransportRequest, status: number, to: URL): TransportRequest {
  const asGet = status === 303 ? request.method !== 'GET' : (status === 301 || status === 302) && request.method === 'POST';
  const dropped = new Set([...(asGet ? ['content-type', 'content-length'] : []), ...(to.origin !== new URL(request.url).origin ? ['authorization', 'cookie'] : [])]);
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !dropped.has(name.toLowerCase())));
  return { method: asGet ? 'GET' : request.method, url: to.href, headers, ...(!asGet && request.body !== undefined ? { body: request.body } : {}) };
}

async function send(request: TransportRequest, signal: AbortSignal): Promise<TransportResponse> {
  const url = new URL(request.url);
  // Compressed answers are welcome (list calls can be large) and decoded below, as fetch did.
  const headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate, br', ...request.headers };
  if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
  const { response } = await handler.handle(
    new SmithyRequest({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: `${url.pathname}${url.search}`,
      query: {},
      headers,
      ...(url.username || url.password ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
      ...(request.body === undefined ? {} : { body: request.body }),
    }),
    { abortSignal: signal },
  );
  const body = response.body as IncomingMessage;
  return {
    status: response.statusCode,
    headers: { get: (name) => response.headers[name.toLowerCase()] ?? null },
    discard: () => body.resume(),
    text: async () => {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of body) chunks.push(chunk as Buffer);
      } catch (error) {
        // The signal may end the request while its body is coming: a timeout, as before the answer.
        throw timeoutOr(error, signal);
      }
      // As fetch's text(): decoded, UTF-8, a byte-order mark dropped.
      const text = decoded(Buffer.concat(chunks), response.headers['content-encoding']).toString('utf8');
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    },
  };
}

/** A body under its `Content-Encoding` (codings applied in order, so undone last first); unknown ones left as they are. */
function decoded(body: Buffer, contentEncoding: string | undefined): Buffer {
  const codings = (contentEncoding ?? '').toLowerCase().split(',').map((c) => c.trim()).filter((c) => c !== '' && c !== 'identity');
  const limit = { maxOutputLength: MAX_DECODED_BYTES };
  let out = body;
  for (const coding of codings.reverse()) {
    if (coding === 'gzip' || coding === 'x-gzip') out = gunzipSync(out, limit);
    else if (coding === 'br') out = brotliDecompressSync(out, limit);
    // "deflate" is meant zlib-wrapped, but some servers send it raw.
    else if (coding === 'deflate') out = out[0] !== undefined && (out[0] & 0x0f) === 8 ? inflateSync(out, limit) : inflateRawSync(out, limit);
    else return out;
  }
  return out;
}

/** A decoded answer larger than this is refused (a vendor's answer is a page of records, not this). */
const MAX_DECODED_BYTES = 64 * 1024 * 1024;

/** Retry-After in seconds, from either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - nowMs) / 1000);
}

/** A Retry-After up to this long is waited out in the function; a longer one is handed back (sync parks the work). */
export const MAX_INLINE_WAIT_MS = 3_000;

/** A request is not started with less than this left in the budget. */
const MIN_REQUEST_MS = 1_000;

function backoffMs(attempt: number): number {
  const base = 200 * 2 ** (attempt - 1);
  return base / 2 + Math.random() * (base / 2);
}
