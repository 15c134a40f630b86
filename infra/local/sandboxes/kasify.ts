import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { addStandardControls, dispatchControl } from './controls.ts';
import { FailNextOptions, FaultInjector } from './faults.ts';
import { OutageSwitch } from './idempotency.ts';
import {
  Router,
  RollingWindowRateLimiter,
  rateLimiterFor,
  headerValue,
  jsonReply,
  noContent,
  parseJsonWithSchema,
  type RouteContext,
  type SandboxReply,
  type SandboxRequest,
  type SandboxResponse,
  type VendorSandbox,
} from './http.ts';
import { requestLogEntry, TrafficRecorder, type RequestLogEntry } from './traffic.ts';

/**
 * Offline stand-in for the Kasify API, mounted at `/kasify` (client base URL
 * `http://127.0.0.1:4010/kasify/v1`). Follows target-apis.md §3: Bearer personal access
 * tokens (`kas_pat_...`), bookings per property (list with page/size/from/to/channel/query,
 * create, get, PATCH), 100 requests/min per token on a rolling minute with 429 + Retry-After.
 * Create has no idempotency key and does not deduplicate: the same body twice makes two
 * bookings. Docs silent on exact paths, enums and the error envelope; the choices:
 * `/v1/properties/{id}/bookings`, `/v1/bookings/{id}`, status `confirmed | cancelled`,
 * errors `{ "error": { "code", "message", "field"? } }` (validation: 422 `validation_error`).
 */

export interface KasifyProperty {
  id: string;
  name: string;
}

export interface KasifyBookingRecord {
  id: string;
  property_id: string;
  from: string;
  to: string;
  channel: string | null;
  channel_id: string | null;
  status: string;
  guest_first_name: string | null;
  guest_last_name: string | null;
  guest_email: string | null;
  guest_phone: string | null;
  adults_count: number | null;
  children_count: number | null;
  infants_count: number | null;
  checkin_time: string | null;
  checkout_time: string | null;
  notes: string | null;
  checkin_code: string;
  created_at: string;
}

export interface KasifySandboxOptions {
  /** Personal access tokens accepted (sandbox-only). */
  tokens?: string[];
  properties?: KasifyProperty[];
  /** Requests per rolling minute per token; docs: 100. `null` disables limiting. */
  perMinute?: number | null;
  /** A per-second window too, so tests can scale the limit down. */
  perSecond?: number;
  /** Shortens the rate windows this many times, keeping their limits (benchmarks). Default 1. */
  timeScale?: number;
  now?: () => number;
}

export const DEFAULT_KASIFY_TOKENS: readonly string[] = ['kas_pat_demo_0000000000000000000000000000'];
export const DEFAULT_KASIFY_PROPERTIES: readonly KasifyProperty[] = [
  { id: '6f1d2c1e-5b7a-4c1e-9a51-2f6f3b8c9d01', name: 'Seaside Loft' },
  { id: '0b9e7a52-3c4d-4e8f-8a6b-1d2c3e4f5a60', name: 'City Flat' },
];

const STATUSES = ['confirmed', 'pending', 'cancelled'] as const;
const date = z.iso.date({ error: 'expected a date YYYY-MM-DD' });
const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');
const BookingFields = z.object({
  from: date,
  to: date,
  channel: z.string().min(1).max(100).nullish(),
  channel_id: z.string().min(1).max(255).nullish(),
  status: z.enum(STATUSES).optional(),
  payment_type: z.string().nullish(),
  notes: z.string().max(5000).nullish(),
  guest_first_name: z.string().max(200).nullish(),
  guest_last_name: z.string().max(200).nullish(),
  guest_email: z.email().nullish(),
  guest_phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'expected E.164').nullish(),
  adults_count: z.int().min(0).max(100).nullish(),
  children_count: z.int().min(0).max(100).nullish(),
  infants_count: z.int().min(0).max(100).nullish(),
  special_requests: z.string().nullish(),
  arrival_time: time.nullish(),
  departure_time: time.nullish(),
  checkin_time: time.nullish(),
  checkout_time: time.nullish(),
});

type Ctx = RouteContext<{ token: string }>;

export class KasifySandbox implements VendorSandbox {
  readonly prefix = '/kasify';
  private readonly tokens: Set<string>;
  private readonly initialTokens: string[];
  private readonly properties: KasifyProperty[];
  private readonly now: () => number;
  private readonly initialLimit: { perMinute: number | null; perSecond?: number };
  private readonly timeScale: number;
  private readonly api = new Router<{ token: string }>();
  private readonly control = new Router();
  private readonly faults = new FaultInjector();
  private readonly traffic = new TrafficRecorder();
  private readonly outage = new OutageSwitch();
  private readonly bookings = new Map<string, KasifyBookingRecord>();
  private limiter: RollingWindowRateLimiter | null = null;

  constructor(options: KasifySandboxOptions = {}) {
    this.initialTokens = [...(options.tokens ?? DEFAULT_KASIFY_TOKENS)];
    this.tokens = new Set(this.initialTokens);
    this.properties = [...(options.properties ?? DEFAULT_KASIFY_PROPERTIES)];
    this.now = options.now ?? Date.now;
    this.timeScale = options.timeScale ?? 1;
    this.initialLimit = { perMinute: options.perMinute === undefined ? 100 : options.perMinute, ...(options.perSecond && { perSecond: options.perSecond }) };
    this.setRateLimit(this.initialLimit);
    this.api
      .add('GET', '/properties', () => jsonReply(200, { properties: this.properties }))
      .add('GET', '/properties/:id', ({ params }) => {
        const property = this.properties.find((p) => p.id === params.id);
        return property ? jsonReply(200, property) : notFound('property');
      })
      .add('GET', '/properties/:id/bookings', (ctx) => this.listBookings(ctx, ctx.params.id))
      .add('POST', '/properties/:id/bookings', (ctx) => this.createBooking(ctx))
      .add('GET', '/properties/:id/bookings/current', ({ params }) => this.currentBooking(params.id!))
      .add('GET', '/bookings', (ctx) => this.listBookings(ctx, ctx.req.query.get('propertyId') ?? undefined))
      .add('GET', '/bookings/:id', ({ params }) => {
        const booking = this.bookings.get(params.id!);
        return booking ? jsonReply(200, { ...booking }) : notFound('booking');
      })
      .add('PATCH', '/bookings/:id', (ctx) => this.patchBooking(ctx));
    this.registerControls();
  }

  failNext(options: FailNextOptions): void {
    this.faults.failNext(options);
  }

  setOutage(status: number | null): void {
    this.outage.set(status);
  }

  setRateLimit(limit: { perMinute: number | null; perSecond?: number }): void {
    this.limiter = rateLimiterFor(limit, this.timeScale);
  }

  /** Every booking, in creation order. */
  allBookings(propertyId?: string): KasifyBookingRecord[] {
    return [...this.bookings.values()].filter((b) => propertyId === undefined || b.property_id === propertyId).map((b) => ({ ...b }));
  }

  /** A booking made some other way (e.g. by hand in the Kasify app). */
  seedBooking(propertyId: string, fields: Partial<KasifyBookingRecord> & { from: string; to: string }): KasifyBookingRecord {
    const booking = this.newBooking(propertyId, fields);
    this.bookings.set(booking.id, booking);
    return { ...booking };
  }

  /** Revokes a personal access token: it answers 401 from now on. */
  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  /** Changes a booking as if edited by hand in the Kasify app. */
  editBooking(id: string, fields: Partial<KasifyBookingRecord>): void {
    const booking = this.bookings.get(id);
    if (!booking) throw new Error(`no Kasify booking ${id}`);
    this.bookings.set(id, { ...booking, ...fields, id });
  }

  /** Removes a booking as if deleted in the Kasify app. */
  deleteBooking(id: string): void {
    this.bookings.delete(id);
  }

  requestLog(): RequestLogEntry[] {
    return this.traffic.entries();
  }

  counters() {
    return this.traffic.counters();
  }

  reset(): void {
    this.bookings.clear();
    for (const token of this.initialTokens) this.tokens.add(token);
    this.traffic.clear();
    this.faults.clear();
    this.outage.set(null);
    this.setRateLimit(this.initialLimit);
  }

  async handle(req: SandboxRequest): Promise<SandboxReply> {
    const at = this.now();
    let route = `${req.method} <unmatched>`;
    const reply = this.process(req, at, (key) => (route = key));
    this.traffic.record(requestLogEntry(req, at, route, reply));
    return reply;
  }

  private process(req: SandboxRequest, at: number, setRoute: (key: string) => void): SandboxResponse {
    const path = req.path.startsWith('/v1/') ? req.path.slice(3) : undefined;
    const match = path === undefined ? ({ kind: 'not-found' } as const) : this.api.match(req.method, path);
    if (match.kind !== 'not-found') setRoute(match.key);
    const outage = this.outage.current();
    if (outage) return error(outage, 'service_unavailable', 'Service unavailable');
    const fault = this.faults.take(req.method, req.fullPath);
    if (fault) {
      const headers = fault.status === 429 || fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter ?? 1) } : undefined;
      return error(fault.status, fault.status === 429 ? 'rate_limited' : fault.status >= 500 ? 'internal_error' : 'injected_failure', 'Injected failure', undefined, headers);
    }
    const token = headerValue(req.headers, 'authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (!token || !this.tokens.has(token)) return error(401, 'unauthorized', 'Missing or invalid bearer token');
    const decision = this.limiter?.tryAcquire(token, at);
    if (decision && !decision.admitted) {
      return error(429, 'rate_limited', 'Rate limit exceeded for this token', undefined, { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) });
    }
    if (match.kind === 'not-found') return error(404, 'not_found', `No endpoint at ${req.fullPath}`);
    if (match.kind === 'method-not-allowed') return error(405, 'method_not_allowed', 'Method not allowed', undefined, { Allow: match.allowed.join(', ') });
    return match.handler({ req, params: match.params, token }) as SandboxResponse;
  }

  private listBookings({ req }: Ctx, propertyId: string | undefined): SandboxResponse {
    if (propertyId !== undefined && !this.properties.some((p) => p.id === propertyId)) return notFound('property');
    const q = req.query;
    const page = Number(q.get('page') ?? '0');
    const size = Number(q.get('size') ?? '20');
    if (!Number.isInteger(page) || page < 0) return error(422, 'validation_error', 'page must be a non-negative integer', 'page');
    if (!Number.isInteger(size) || size < 1 || size > 100) return error(422, 'validation_error', 'size must be 1-100', 'size');
    const from = q.get('from')?.slice(0, 10);
    const to = q.get('to')?.slice(0, 10);
    const channel = q.get('channel');
    const text = q.get('query')?.toLowerCase();
    let list = this.allBookings(propertyId)
      // Docs silent on from/to semantics: bookings overlapping the window.
      .filter((b) => (from === undefined || b.to >= from) && (to === undefined || b.from <= to))
      .filter((b) => channel === null || b.channel === channel)
      .filter((b) => !text || [b.guest_first_name, b.guest_last_name, b.guest_email, b.guest_phone, b.notes].some((v) => v?.toLowerCase().includes(text)));
    const sortBy = q.get('sortBy');
    if (sortBy === 'CHECKIN' || sortBy === 'CHECKOUT') {
      const field = sortBy === 'CHECKIN' ? 'from' : 'to';
      list = list.sort((a, b) => a[field].localeCompare(b[field]));
      if (q.get('sortDescending') === 'true') list.reverse();
    }
    return jsonReply(200, { bookings: list.slice(page * size, page * size + size), page, size, total: list.length });
  }

  private currentBooking(propertyId: string): SandboxResponse {
    if (!this.properties.some((p) => p.id === propertyId)) return notFound('property');
    const today = new Date(this.now()).toISOString().slice(0, 10);
    const current = this.allBookings(propertyId).find((b) => b.status !== 'cancelled' && b.from <= today && today < b.to);
    return current ? jsonReply(200, current) : notFound('booking');
  }

  private createBooking({ req, params }: Ctx): SandboxResponse {
    if (!this.properties.some((p) => p.id === params.id)) return notFound('property');
    const body = parseBody(req, BookingFields);
    if (!body.ok) return body.reply;
    if (body.value.to <= body.value.from) return error(422, 'validation_error', 'to must be after from', 'to');
    // Docs: no deduplication. The same body twice is two bookings.
    const booking = this.newBooking(params.id!, body.value);
    this.bookings.set(booking.id, booking);
    return jsonReply(201, { ...booking });
  }

  private patchBooking({ req, params }: Ctx): SandboxResponse {
    const booking = this.bookings.get(params.id!);
    if (!booking) return notFound('booking');
    const body = parseBody(req, BookingFields.partial());
    if (!body.ok) return body.reply;
    const next: KasifyBookingRecord = { ...booking };
    for (const [field, value] of Object.entries(body.value)) {
      if (value !== undefined && field in next) (next as unknown as Record<string, unknown>)[field] = value;
    }
    if (next.to <= next.from) return error(422, 'validation_error', 'to must be after from', 'to');
    this.bookings.set(next.id, next);
    return jsonReply(200, { ...next });
  }

  private newBooking(propertyId: string, fields: Partial<KasifyBookingRecord> & { from: string; to: string }): KasifyBookingRecord {
    return {
      id: randomUUID(),
      property_id: propertyId,
      from: fields.from,
      to: fields.to,
      channel: fields.channel ?? null,
      channel_id: fields.channel_id ?? null,
      status: fields.status ?? 'confirmed',
      guest_first_name: fields.guest_first_name ?? null,
      guest_last_name: fields.guest_last_name ?? null,
      guest_email: fields.guest_email ?? null,
      guest_phone: fields.guest_phone ?? null,
      adults_count: fields.adults_count ?? null,
      children_count: fields.children_count ?? null,
      infants_count: fields.infants_count ?? null,
      checkin_time: fields.checkin_time ?? null,
      checkout_time: fields.checkout_time ?? null,
      notes: fields.notes ?? null,
      checkin_code: randomBytes(16).toString('base64url'),
      created_at: new Date(this.now()).toISOString(),
    };
  }

  handleControl(req: SandboxRequest): SandboxReply {
    return dispatchControl(this.control, req);
  }

  private registerControls(): void {
    addStandardControls(this.control, this)
      .add('GET', '/bookings', ({ req }) => jsonReply(200, { bookings: this.allBookings(req.query.get('property_id') ?? undefined) }))
      .add('POST', '/rate-limit', ({ req }) => {
        const body = parseJsonWithSchema(req, z.strictObject({ perMinute: z.int().positive().nullable(), perSecond: z.int().positive().optional() }));
        if (!body.ok) return body.reply;
        this.setRateLimit({ perMinute: body.value.perMinute, ...(body.value.perSecond && { perSecond: body.value.perSecond }) });
        return noContent();
      });
  }
}

function error(status: number, code: string, message: string, field?: string, headers?: Record<string, string>): SandboxResponse {
  return jsonReply(status, { error: { code, message, ...(field && { field }) } }, headers);
}

function notFound(what: string): SandboxResponse {
  return error(404, 'not_found', `${what} not found`);
}

function parseBody<S extends z.ZodType>(req: SandboxRequest, schema: S): { ok: true; value: z.output<S> } | { ok: false; reply: SandboxResponse } {
  let json: unknown;
  try {
    json = JSON.parse(req.body.toString('utf8'));
  } catch {
    return { ok: false, reply: error(400, 'invalid_json', 'Request body is not valid JSON') };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  return { ok: false, reply: error(422, 'validation_error', `${issue.path.join('.') || 'body'}: ${issue.message}`, issue.path.join('.') || undefined) };
}
