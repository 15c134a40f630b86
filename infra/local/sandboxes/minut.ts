import { randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { FailNextOptions, FaultInjector, type PendingFault } from './faults.ts';
import {
  Router,
  type RollingWindowRateLimiter,
  errorReply,
  headerValue,
  jsonReply,
  mediaType,
  noContent,
  parseJsonBody,
  parseJsonWithSchema,
  parseWithSchema,
  rateLimiterFor,
  type RouteContext,
  type SandboxReply,
  type SandboxRequest,
  type SandboxResponse,
  type VendorSandbox,
} from './http.ts';
import { TrafficRecorder, type RequestLogEntry } from './traffic.ts';

/**
 * Offline stand-in for Minut's REST API v8, mounted at `/minut` (client base URL
 * `http://127.0.0.1:4010/minut/v8`). Follows the "Managing Guests" docs and
 * /work/shared/reference/target-apis.md §1; where they are silent, the choice made is noted
 * next to the code as "Docs silent: ...". State is in memory only.
 */

// ---------------------------------------------------------------------------------------------
// Public types

export interface MinutClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface MinutHome {
  home_id: string;
  name: string;
  timezone: string;
}

export interface MinutGuest {
  guest_id: string;
  home_id: string;
  name: string;
  email: string | null;
  phone_number: string | null;
  /** UTC, `toISOString()` form: the sandbox normalises whatever offset the client sent. */
  checkin_time: string;
  checkout_time: string;
  /** `'api'` for guests created through the API; a PMS name (e.g. `'hostaway'`) for native ones. */
  source: string;
  readonly: boolean;
  validation_errors: string[];
  access_code: string | null;
  guest_page: string;
  created_at: string;
  /** Present once messaging has started (only seeded guests or a PATCH set it here). */
  conversation?: { status: string };
}

export interface MinutRateLimit {
  /** Requests per rolling second, per access token (per client id on the token endpoint). */
  perSecond: number;
  /** Docs: 120/min. Off unless set, so long local runs at the documented 5/s are not throttled. */
  perMinute?: number;
}

export interface MinutSandboxOptions {
  clients?: MinutClientCredentials[];
  homes?: MinutHome[];
  tokenTtlSeconds?: number;
  /** Default `{ perSecond: 5 }`; `null` or `{ perSecond: 0 }` disables limiting. */
  rateLimit?: MinutRateLimit | null;
  /** `Retry-After` seconds on 429 answers. Default 1. */
  retryAfterSeconds?: number;
  /** Shortens the rate windows this many times, keeping their limits (benchmarks). Default 1. */
  timeScale?: number;
  /** Clock in ms since the epoch; inject to test token expiry and rate windows. */
  now?: () => number;
}

export interface MinutCounters {
  requests: number;
  tokenGrants: number;
  byRoute: Record<string, number>;
}

/** Fields a seeded guest may set; anything omitted gets a sandbox default. */
export type SeedGuestInput = Partial<Omit<MinutGuest, 'home_id'>>;

/** Thrown by the programmatic controls (`seedGuest`...) on bad input. */
export class MinutSandboxInputError extends Error {
  override readonly name = 'MinutSandboxInputError';
}

/** Sandbox-only demo credentials; they grant nothing anywhere else. */
export const DEFAULT_MINUT_CLIENTS: readonly MinutClientCredentials[] = [
  { clientId: 'demo-minut-client', clientSecret: 'demo-minut-secret' },
];

export const DEFAULT_MINUT_HOMES: readonly MinutHome[] = [
  { home_id: 'home_demo_seaside', name: 'Seaside Loft', timezone: 'Europe/Stockholm' },
  { home_id: 'home_demo_city', name: 'City Flat', timezone: 'Europe/Berlin' },
  // One home per further demo PMS: Minut matches a guest by home, name and check-in, so the same
  // example stay booked through two PMSs into one home would be one guest.
  { home_id: 'home_demo_lodgify', name: 'Lodgify demo property', timezone: 'Europe/Stockholm' },
  { home_id: 'home_demo_hospitable', name: 'Hospitable demo property', timezone: 'Europe/Stockholm' },
  { home_id: 'home_demo_smoobu', name: 'Smoobu demo apartment', timezone: 'Europe/Stockholm' },
  { home_id: 'home_demo_apaleo', name: 'apaleo demo hotel', timezone: 'Europe/Berlin' },
  { home_id: 'home_demo_mews', name: 'Mews demo hotel', timezone: 'Europe/Stockholm' },
  { home_id: 'home_demo_cloudbeds', name: 'Cloudbeds demo hotel', timezone: 'America/New_York' },
];

// ---------------------------------------------------------------------------------------------
// Request schemas

const E164 = /^\+[1-9]\d{6,14}$/;

/** Docs silent on paging defaults: 50 matches the docs' own example; larger limits are clamped. */
const DEFAULT_PAGE_LIMIT = 50;
const MAX_PAGE_LIMIT = 100;

/** Fields a client may write on a guest; any of them in a PATCH of a read-only guest is refused. */
const WRITABLE_GUEST_FIELDS = ['name', 'email', 'phone_number', 'checkin_time', 'checkout_time'] as const;

const instant = z.iso.datetime({
  offset: true,
  error: 'expected an ISO-8601 instant with seconds and a UTC offset, e.g. 2026-06-01T15:00:00Z',
});
const guestName = z.string({ error: 'expected a non-empty string' }).trim().min(1, 'must not be empty');
/** `null`, absent and blank all mean "no value". */
const contact = z.string({ error: 'expected a string or null' }).trim().nullish();
const conversation = z.object({ status: z.string().trim().min(1, 'must not be empty') });

// Non-strict objects: unknown and read-only fields (guest_id, source, readonly...) are ignored,
// as a JSON API that documents "new fields may be added" most plausibly does.
const FullGuestBody = z.object({
  name: guestName,
  email: contact,
  phone_number: contact,
  checkin_time: instant,
  checkout_time: instant,
});

const PatchGuestBody = z.object({
  name: guestName.optional(),
  email: contact,
  phone_number: contact,
  checkin_time: instant.optional(),
  checkout_time: instant.optional(),
  conversation: conversation.optional(),
});

const SeedGuestBody = z.strictObject({
  home_id: z.string().min(1),
  guest_id: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  email: z.string().nullable().optional(),
  phone_number: z.string().nullable().optional(),
  checkin_time: instant.optional(),
  checkout_time: instant.optional(),
  source: z.string().min(1).optional(),
  readonly: z.boolean().optional(),
  validation_errors: z.array(z.string()).optional(),
  access_code: z.string().nullable().optional(),
  conversation: conversation.optional(),
});

const FaultBody = z.discriminatedUnion('kind', [
  FailNextOptions.extend({ kind: z.literal('fail-next') }),
  z.strictObject({ kind: z.literal('drop-after-create'), count: z.int().positive().default(1) }),
]);

/** Action routes take no options; an empty body or `{}` is fine, anything else is a caller bug. */
const EmptyBody = z.strictObject({});

const RateLimitBody = z.strictObject({
  perSecond: z.int().nonnegative().nullable(),
  perMinute: z.int().positive().nullable().optional(),
});

// ---------------------------------------------------------------------------------------------

interface IssuedToken {
  clientId: string;
  expiresAtMs: number;
}

/** Per-request facts gathered while handling, written to the request log afterwards. */
interface RequestTrace {
  route: string;
  token?: string;
  clientId?: string;
}

type ApiContext = RouteContext<{ trace: RequestTrace }>;

const TOKEN_ROUTE = 'POST /oauth/token';

export class MinutSandbox implements VendorSandbox {
  readonly prefix = '/minut';

  private readonly clients: MinutClientCredentials[];
  private readonly homes: MinutHome[];
  private readonly tokenTtlSeconds: number;
  private readonly retryAfterSeconds: number;
  private readonly initialRateLimit: MinutRateLimit | null;
  private readonly now: () => number;

  private readonly api = new Router<{ trace: RequestTrace }>();
  private readonly control = new Router();
  private readonly tokens = new Map<string, IssuedToken>();
  /** Insertion order is creation order, which list endpoints expose as the stable order. */
  private readonly guestsById = new Map<string, MinutGuest>();
  private readonly faults = new FaultInjector();
  private readonly traffic = new TrafficRecorder();
  private rateLimit: MinutRateLimit | null;
  private readonly timeScale: number | undefined;
  private limiter: RollingWindowRateLimiter | null = null;
  private tokenGrants = 0;
  private dropsAfterCreate = 0;

  constructor(options: MinutSandboxOptions = {}) {
    this.clients = [...(options.clients ?? DEFAULT_MINUT_CLIENTS)];
    this.homes = (options.homes ?? DEFAULT_MINUT_HOMES).map((home) => ({ ...home }));
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.now = options.now ?? Date.now;
    this.timeScale = options.timeScale;
    this.initialRateLimit = options.rateLimit === undefined ? { perSecond: 5 } : options.rateLimit;
    this.rateLimit = null;
    this.setRateLimit(this.initialRateLimit);
    this.registerApiRoutes();
    this.registerControlRoutes();
  }

  // -------------------------------------------------------------------------------------------
  // Programmatic controls (the same ones are exposed over HTTP by handleControl)

  /** Makes the next `count` requests matching method/path fail with `status`. */
  failNext(options: FailNextOptions): void {
    this.faults.failNext(options);
  }

  /** The next `count` successful creates store the guest, then destroy the socket unanswered. */
  dropConnectionAfterCreate(count = 1): void {
    if (!Number.isInteger(count) || count < 1) throw new MinutSandboxInputError('count must be a positive integer');
    this.dropsAfterCreate += count;
  }

  counters(): MinutCounters {
    const { requests, byRoute } = this.traffic.counters();
    return { requests, tokenGrants: this.tokenGrants, byRoute };
  }

  requestLog(): RequestLogEntry[] {
    return this.traffic.entries();
  }

  guests(homeId?: string): MinutGuest[] {
    return [...this.guestsById.values()]
      .filter((guest) => homeId === undefined || guest.home_id === homeId)
      .map(copyGuest);
  }

  /** Removes a guest as if deleted by hand in the Minut app. */
  removeGuest(guestId: string): void {
    this.guestsById.delete(guestId);
  }

  /** Inserts a guest directly, e.g. a read-only one from a native PMS integration. */
  seedGuest(homeId: string, partial: SeedGuestInput = {}): MinutGuest {
    if (!this.findHome(homeId)) throw new MinutSandboxInputError(`unknown home_id ${homeId}`);
    const guestId = partial.guest_id ?? newGuestId();
    if (this.guestsById.has(guestId)) throw new MinutSandboxInputError(`guest_id ${guestId} already exists`);
    const nowMs = this.now();
    const checkin = partial.checkin_time ?? new Date(nowMs + DAY_MS).toISOString();
    const checkout = partial.checkout_time ?? new Date(Date.parse(checkin) + 3 * DAY_MS).toISOString();
    const checkinMs = Date.parse(checkin);
    const checkoutMs = Date.parse(checkout);
    if (Number.isNaN(checkinMs) || Number.isNaN(checkoutMs)) {
      throw new MinutSandboxInputError('checkin_time and checkout_time must be ISO-8601 instants');
    }
    const readonly = partial.readonly ?? false;
    const email = blankToNull(partial.email);
    const phone = blankToNull(partial.phone_number);
    const guest: MinutGuest = {
      guest_id: guestId,
      home_id: homeId,
      name: partial.name ?? 'Seeded Guest',
      email,
      phone_number: phone,
      checkin_time: new Date(checkinMs).toISOString(),
      checkout_time: new Date(checkoutMs).toISOString(),
      // A read-only guest comes from a native PMS integration, so default to one.
      source: partial.source ?? (readonly ? 'hostaway' : 'api'),
      readonly,
      validation_errors: partial.validation_errors ?? contactValidationErrors(email, phone),
      access_code: partial.access_code ?? null,
      guest_page: partial.guest_page ?? guestPageUrl(guestId),
      created_at: partial.created_at ?? new Date(nowMs).toISOString(),
      ...(partial.conversation && { conversation: { ...partial.conversation } }),
    };
    this.guestsById.set(guestId, guest);
    return copyGuest(guest);
  }

  /** Clears guests, log, counters, faults and rate windows, and restores the initial rate limit. Keeps homes, clients and tokens. */
  reset(): void {
    this.guestsById.clear();
    this.traffic.clear();
    this.faults.clear();
    this.tokenGrants = 0;
    this.dropsAfterCreate = 0;
    this.setRateLimit(this.initialRateLimit);
  }

  /** A number sets the per-second limit (keeping any per-minute one); `null` or 0 disables limiting. */
  setRateLimit(limit: number | MinutRateLimit | null): void {
    const next = typeof limit === 'number' ? { ...this.rateLimit, perSecond: limit } : limit;
    // A per-minute window applies only beside a per-second one: perSecond 0 disables limiting.
    this.limiter = next && next.perSecond > 0 ? rateLimiterFor(next, this.timeScale ?? 1) : null;
    this.rateLimit = this.limiter ? next : null;
  }

  /** Makes every issued token expire now, so a running stack can exercise its token refresh. */
  expireTokens(): void {
    const nowMs = this.now();
    for (const token of this.tokens.values()) token.expiresAtMs = Math.min(token.expiresAtMs, nowMs);
  }

  // -------------------------------------------------------------------------------------------
  // API entry point

  async handle(req: SandboxRequest): Promise<SandboxReply> {
    const at = this.now();
    const trace: RequestTrace = { route: `${req.method} <unmatched>` };
    const reply = await this.process(req, trace);
    const retryAfter = 'status' in reply ? Number(reply.headers?.['Retry-After']) : Number.NaN;
    const userAgent = headerValue(req.headers, 'user-agent');
    this.traffic.record({
      at,
      method: req.method,
      path: req.fullPath,
      route: trace.route,
      status: 'status' in reply ? reply.status : 201,
      ...(Number.isFinite(retryAfter) && { retryAfter }),
      ...(userAgent !== undefined && { userAgent }),
      ...(trace.token !== undefined && { token: trace.token }),
      ...(trace.clientId !== undefined && { clientId: trace.clientId }),
      ...('dropConnection' in reply && { droppedConnection: true as const }),
    });
    return reply;
  }

  private async process(req: SandboxRequest, trace: RequestTrace): Promise<SandboxReply> {
    // Only v8 exists here; other versions answer like any unknown path.
    const apiPath = req.path === '/v8' || req.path.startsWith('/v8/') ? req.path.slice(3) : undefined;
    const match = apiPath === undefined ? ({ kind: 'not-found' } as const) : this.api.match(req.method, apiPath);
    if (match.kind !== 'not-found') trace.route = match.key;

    // Injected faults act like a failing gateway: before authentication and rate limiting.
    const fault = this.faults.take(req.method, req.fullPath);
    if (fault) return this.faultReply(fault);

    if (match.kind === 'found' && match.key === TOKEN_ROUTE) {
      return match.handler({ req, params: match.params, trace });
    }

    const token = bearerToken(req);
    if (token !== undefined) trace.token = token;
    if (token === undefined || !this.isTokenValid(token)) {
      // Docs: 401s carry no error_key.
      return errorReply(401, 'Missing, invalid or expired access token', undefined, {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
    const limited = this.checkRateLimit(`token:${token}`);
    if (limited) return limited;

    switch (match.kind) {
      case 'not-found':
        return errorReply(404, 'Not found');
      case 'method-not-allowed':
        // Docs silent: a conventional 405 with Allow.
        return errorReply(405, 'Method not allowed', 'method_not_allowed', { Allow: match.allowed.join(', ') });
      case 'found':
        return match.handler({ req, params: match.params, trace });
    }
  }

  private faultReply(fault: PendingFault): SandboxResponse {
    const retryAfter = fault.retryAfter ?? (fault.status === 429 ? this.retryAfterSeconds : undefined);
    const headers = retryAfter === undefined ? undefined : { 'Retry-After': String(retryAfter) };
    if (fault.status === 429) return errorReply(429, 'Too many requests', 'rate_limited', headers);
    if (fault.status === 401 || fault.status === 404) return errorReply(fault.status, 'Injected failure', undefined, headers);
    const errorKey = fault.status >= 500 ? 'internal_error' : 'injected_failure';
    return errorReply(fault.status, 'Injected failure', errorKey, headers);
  }

  private checkRateLimit(key: string): SandboxResponse | undefined {
    const decision = this.limiter?.tryAcquire(key, this.now());
    if (!decision || decision.admitted) return undefined;
    // Docs silent on the 429 body and headers; Retry-After is what a client should honour.
    const seconds = Math.max(this.retryAfterSeconds, Math.ceil(decision.retryAfterMs / 1000));
    return errorReply(429, 'Too many requests', 'rate_limited', { 'Retry-After': String(seconds) });
  }

  private isTokenValid(token: string): boolean {
    const issued = this.tokens.get(token);
    if (!issued) return false;
    if (this.now() < issued.expiresAtMs) return true;
    this.tokens.delete(token);
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // API routes (paths relative to /v8)

  private registerApiRoutes(): void {
    this.api
      .add('POST', '/oauth/token', (ctx) => this.grantToken(ctx))
      .add('GET', '/homes', (ctx) => this.listHomes(ctx))
      .add('GET', '/homes/:home_id', (ctx) => this.getHome(ctx))
      .add('GET', '/homes/:home_id/guests', (ctx) => this.listGuests(ctx))
      .add('POST', '/homes/:home_id/guests', (ctx) => this.createGuest(ctx))
      .add('GET', '/homes/:home_id/guests/:guest_id', (ctx) => this.getGuest(ctx))
      .add('PATCH', '/homes/:home_id/guests/:guest_id', (ctx) => this.patchGuest(ctx))
      .add('PUT', '/homes/:home_id/guests/:guest_id', (ctx) => this.replaceGuest(ctx))
      .add('DELETE', '/homes/:home_id/guests/:guest_id', (ctx) => this.deleteGuest(ctx));
  }

  /** client_credentials grant: Basic client auth + form body (docs, "Authentication for Users"). */
  private grantToken({ req, trace }: ApiContext): SandboxResponse {
    const client = this.authenticateClient(req);
    if (!client) {
      return jsonReply(
        401,
        { error: 'invalid_client', error_description: 'Unknown client or wrong client secret (use HTTP Basic auth)' },
        { 'WWW-Authenticate': 'Basic realm="minut"' },
      );
    }
    trace.clientId = client.clientId;
    const limited = this.checkRateLimit(`client:${client.clientId}`);
    if (limited) return limited;

    // Docs: "JSON-only with the exception of the authentication endpoints", which take a form.
    if (mediaType(req.headers) !== 'application/x-www-form-urlencoded') {
      return oauthError('invalid_request', 'Expected an application/x-www-form-urlencoded body');
    }
    const form = new URLSearchParams(req.body.toString('utf8'));
    const grantType = form.get('grant_type');
    if (!grantType) return oauthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') {
      return oauthError('unsupported_grant_type', `grant_type ${grantType} is not supported here`);
    }
    // Docs send response_type=token; tolerate its absence, refuse anything else.
    const responseType = form.get('response_type');
    if (responseType !== null && responseType !== 'token') {
      return oauthError('invalid_request', 'response_type must be "token"');
    }

    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, { clientId: client.clientId, expiresAtMs: this.now() + this.tokenTtlSeconds * 1000 });
    this.tokenGrants += 1;
    return jsonReply(
      200,
      { access_token: accessToken, token_type: 'Bearer', expires_in: this.tokenTtlSeconds },
      { 'Cache-Control': 'no-store' },
    );
  }

  /** Docs: client credentials in `Authorization: Basic base64(id:secret)`; body credentials are not accepted. */
  private authenticateClient(req: SandboxRequest): MinutClientCredentials | undefined {
    const header = headerValue(req.headers, 'authorization');
    const encoded = header?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i)?.[1];
    if (!encoded) return undefined;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator < 0) return undefined;
    const clientId = decoded.slice(0, separator);
    const secret = decoded.slice(separator + 1);
    return this.clients.find((client) => client.clientId === clientId && sameSecret(client.clientSecret, secret));
  }

  private listHomes({ req }: ApiContext): SandboxResponse {
    const paging = parsePaging(req.query);
    if (!paging.ok) return paging.reply;
    const { limit, offset } = paging.value;
    return jsonReply(200, {
      homes: this.homes.slice(offset, offset + limit).map((home) => ({ ...home })),
      paging: { total_count: this.homes.length, limit, offset },
    });
  }

  private getHome({ params }: ApiContext): SandboxResponse {
    const home = this.findHome(params.home_id);
    return home ? jsonReply(200, { ...home }) : homeNotFound();
  }

  private listGuests({ req, params }: ApiContext): SandboxResponse {
    if (!this.findHome(params.home_id)) return homeNotFound();
    const paging = parsePaging(req.query);
    if (!paging.ok) return paging.reply;
    const { limit, offset } = paging.value;
    const all = this.guests(params.home_id);
    return jsonReply(200, {
      guests: all.slice(offset, offset + limit),
      paging: { total_count: all.length, limit, offset },
    });
  }

  private createGuest({ req, params }: ApiContext): SandboxReply {
    const homeId = params.home_id ?? '';
    if (!this.findHome(homeId)) return homeNotFound();
    const body = parseGuestBody(req, FullGuestBody);
    if (!body.ok) return body.reply;
    const stay = checkStay(body.value.checkin_time, body.value.checkout_time);
    if (!stay.ok) return stay.reply;

    // Docs: no server-side deduplication; the same body twice makes two guests.
    const guestId = newGuestId();
    const email = blankToNull(body.value.email);
    const phone = blankToNull(body.value.phone_number);
    const guest: MinutGuest = {
      guest_id: guestId,
      home_id: homeId,
      name: body.value.name,
      email,
      phone_number: phone,
      checkin_time: stay.value.checkin,
      checkout_time: stay.value.checkout,
      source: 'api',
      readonly: false,
      validation_errors: contactValidationErrors(email, phone),
      access_code: null,
      guest_page: guestPageUrl(guestId),
      created_at: new Date(this.now()).toISOString(),
    };
    this.guestsById.set(guestId, guest);

    if (this.dropsAfterCreate > 0) {
      this.dropsAfterCreate -= 1;
      return { dropConnection: true };
    }
    return jsonReply(201, copyGuest(guest));
  }

  private getGuest({ params }: ApiContext): SandboxResponse {
    const found = this.findGuest(params);
    return found.ok ? jsonReply(200, copyGuest(found.value)) : found.reply;
  }

  private patchGuest({ req, params }: ApiContext): SandboxResponse {
    const found = this.findGuest(params);
    if (!found.ok) return found.reply;
    const guest = found.value;
    const json = parseJsonObject(req);
    if (!json.ok) return json.reply;
    if (guest.readonly && WRITABLE_GUEST_FIELDS.some((field) => field in json.value)) {
      return readonlyGuest('only conversation.status can be changed');
    }
    const patch = parseWithSchema(PatchGuestBody, json.value, 'invalid_guest');
    if (!patch.ok) return patch.reply;
    const stay = checkStay(patch.value.checkin_time ?? guest.checkin_time, patch.value.checkout_time ?? guest.checkout_time);
    if (!stay.ok) return stay.reply;

    // undefined = leave as is; null/blank = clear.
    const email = patch.value.email === undefined ? guest.email : blankToNull(patch.value.email);
    const phone = patch.value.phone_number === undefined ? guest.phone_number : blankToNull(patch.value.phone_number);
    const updated: MinutGuest = {
      ...guest,
      name: patch.value.name ?? guest.name,
      email,
      phone_number: phone,
      checkin_time: stay.value.checkin,
      checkout_time: stay.value.checkout,
      validation_errors: guest.readonly ? guest.validation_errors : contactValidationErrors(email, phone),
      ...(patch.value.conversation && { conversation: { status: patch.value.conversation.status } }),
    };
    this.guestsById.set(guest.guest_id, updated);
    return jsonReply(200, copyGuest(updated));
  }

  private replaceGuest({ req, params }: ApiContext): SandboxResponse {
    const found = this.findGuest(params);
    if (!found.ok) return found.reply;
    const guest = found.value;
    if (guest.readonly) return readonlyGuest('PUT is not allowed');
    const body = parseGuestBody(req, FullGuestBody);
    if (!body.ok) return body.reply;
    const stay = checkStay(body.value.checkin_time, body.value.checkout_time);
    if (!stay.ok) return stay.reply;

    // Docs: "any field you omit is treated as cleared" (for the writable fields).
    const email = blankToNull(body.value.email);
    const phone = blankToNull(body.value.phone_number);
    const replaced: MinutGuest = {
      ...guest,
      name: body.value.name,
      email,
      phone_number: phone,
      checkin_time: stay.value.checkin,
      checkout_time: stay.value.checkout,
      validation_errors: contactValidationErrors(email, phone),
    };
    this.guestsById.set(guest.guest_id, replaced);
    return jsonReply(200, copyGuest(replaced));
  }

  private deleteGuest({ params }: ApiContext): SandboxResponse {
    const found = this.findGuest(params);
    if (!found.ok) return found.reply;
    if (found.value.readonly) return readonlyGuest('DELETE is not allowed');
    this.guestsById.delete(found.value.guest_id);
    return noContent();
  }

  private findHome(homeId: string | undefined): MinutHome | undefined {
    return this.homes.find((home) => home.home_id === homeId);
  }

  private findGuest(params: Record<string, string>): Found<MinutGuest> {
    if (!this.findHome(params.home_id)) return { ok: false, reply: homeNotFound() };
    const guest = this.guestsById.get(params.guest_id ?? '');
    // A guest of another home is as invisible as a missing one.
    if (!guest || guest.home_id !== params.home_id) return { ok: false, reply: errorReply(404, 'Guest not found') };
    return { ok: true, value: guest };
  }

  // -------------------------------------------------------------------------------------------
  // Control API under /_sandbox/minut (for tests and CLIs talking to a running stack)

  handleControl(req: SandboxRequest): Promise<SandboxReply> | SandboxReply {
    const match = this.control.match(req.method, req.path);
    switch (match.kind) {
      case 'not-found':
        return errorReply(404, `No sandbox control at ${req.fullPath}`);
      case 'method-not-allowed':
        return errorReply(405, 'Method not allowed', 'method_not_allowed', { Allow: match.allowed.join(', ') });
      case 'found':
        return match.handler({ req, params: match.params });
    }
  }

  private registerControlRoutes(): void {
    this.control
      .add('GET', '/counters', () => jsonReply(200, this.counters()))
      .add('GET', '/requests', () => jsonReply(200, { requests: this.requestLog() }))
      .add('GET', '/guests', ({ req }) => {
        const homeId = req.query.get('home_id') ?? undefined;
        return jsonReply(200, { guests: this.guests(homeId) });
      })
      .add('POST', '/guests', ({ req }) => {
        const body = parseJsonWithSchema(req, SeedGuestBody);
        if (!body.ok) return body.reply;
        const { home_id: homeId, ...partial } = body.value;
        try {
          return jsonReply(201, this.seedGuest(homeId, partial));
        } catch (error) {
          if (error instanceof MinutSandboxInputError) return errorReply(400, error.message, 'invalid_request');
          throw error;
        }
      })
      .add('POST', '/reset', ({ req }) => {
        const body = parseJsonWithSchema(req, EmptyBody);
        if (!body.ok) return body.reply;
        this.reset();
        return noContent();
      })
      .add('GET', '/faults', () => jsonReply(200, { faults: this.faults.pending(), dropsAfterCreate: this.dropsAfterCreate }))
      .add('POST', '/faults', ({ req }) => {
        const body = parseJsonWithSchema(req, FaultBody);
        if (!body.ok) return body.reply;
        if (body.value.kind === 'drop-after-create') {
          this.dropConnectionAfterCreate(body.value.count);
        } else {
          const { kind: _kind, ...options } = body.value;
          this.failNext(options);
        }
        return noContent();
      })
      .add('GET', '/rate-limit', () => jsonReply(200, { rateLimit: this.rateLimit }))
      .add('POST', '/rate-limit', ({ req }) => {
        const body = parseJsonWithSchema(req, RateLimitBody);
        if (!body.ok) return body.reply;
        const { perSecond, perMinute } = body.value;
        this.setRateLimit(perSecond === null ? null : { perSecond, ...(perMinute != null && { perMinute }) });
        return jsonReply(200, { rateLimit: this.rateLimit });
      })
      .add('POST', '/tokens/expire', ({ req }) => {
        const body = parseJsonWithSchema(req, EmptyBody);
        if (!body.ok) return body.reply;
        this.expireTokens();
        return noContent();
      });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

const DAY_MS = 24 * 60 * 60 * 1000;

type Found<T> = { ok: true; value: T } | { ok: false; reply: SandboxResponse };

function newGuestId(): string {
  return randomBytes(12).toString('hex');
}

/** Docs silent on the URL; `.invalid` makes it obvious it points nowhere. */
function guestPageUrl(guestId: string): string {
  return `https://guest.minut.sandbox.invalid/g/${guestId}`;
}

function copyGuest(guest: MinutGuest): MinutGuest {
  return structuredClone(guest);
}

function blankToNull(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

/**
 * Docs: informational entries, the guest is stored anyway. `unreachable_country` (also in the
 * docs) needs carrier data the sandbox does not have, so it is never produced.
 */
function contactValidationErrors(email: string | null, phone: string | null): string[] {
  const errors: string[] = [];
  if (email === null && phone === null) errors.push('missing_phone_number_and_email');
  if (phone !== null && !E164.test(phone)) errors.push('invalid_phone_number');
  return errors;
}

function checkStay(checkinTime: string, checkoutTime: string): Found<{ checkin: string; checkout: string }> {
  const checkinMs = Date.parse(checkinTime);
  const checkoutMs = Date.parse(checkoutTime);
  if (!(checkoutMs > checkinMs)) {
    return { ok: false, reply: errorReply(400, 'checkout_time must be after checkin_time', 'invalid_guest') };
  }
  return { ok: true, value: { checkin: new Date(checkinMs).toISOString(), checkout: new Date(checkoutMs).toISOString() } };
}

/** JSON object body; a body that is not JSON (or not an object) is a malformed request, not a bad guest. */
function parseJsonObject(req: SandboxRequest): Found<Record<string, unknown>> {
  if (req.body.length > 0 && mediaType(req.headers) !== 'application/json') {
    // Docs silent; the API is JSON-only, so a form or text body is refused outright.
    return { ok: false, reply: errorReply(415, 'Content-Type must be application/json', 'invalid_request') };
  }
  const json = parseJsonBody(req);
  if (!json.ok) return json;
  if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
    return { ok: false, reply: errorReply(400, 'Request body must be a JSON object', 'invalid_request') };
  }
  return { ok: true, value: json.value as Record<string, unknown> };
}

function parseGuestBody<S extends z.ZodType>(req: SandboxRequest, schema: S): Found<z.output<S>> {
  const json = parseJsonObject(req);
  return json.ok ? parseWithSchema(schema, json.value, 'invalid_guest') : json;
}

/** Docs silent: limit defaults to 50 and is clamped to 100; non-numeric or negative values are a 400. */
function parsePaging(query: URLSearchParams): Found<{ limit: number; offset: number }> {
  const limit = parseCount(query.get('limit'), DEFAULT_PAGE_LIMIT);
  const offset = parseCount(query.get('offset'), 0);
  if (limit === undefined || limit < 1) {
    return { ok: false, reply: errorReply(400, 'limit must be a positive integer', 'invalid_request') };
  }
  if (offset === undefined) {
    return { ok: false, reply: errorReply(400, 'offset must be a non-negative integer', 'invalid_request') };
  }
  return { ok: true, value: { limit: Math.min(limit, MAX_PAGE_LIMIT), offset } };
}

function parseCount(raw: string | null, fallback: number): number | undefined {
  if (raw === null || raw === '') return fallback;
  return /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
}

function bearerToken(req: SandboxRequest): string | undefined {
  return headerValue(req.headers, 'authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function homeNotFound(): SandboxResponse {
  return errorReply(404, 'Home not found'); // docs: 404s carry no error_key
}

function readonlyGuest(detail: string): SandboxResponse {
  return errorReply(400, `Guest is read-only (created by a PMS integration): ${detail}`, 'readonly_guest');
}

function oauthError(error: string, description: string): SandboxResponse {
  return jsonReply(400, { error, error_description: description });
}
