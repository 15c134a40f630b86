import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { addStandardControls, dispatchControl } from './controls.ts';
import { FailNextOptions, FaultInjector } from './faults.ts';
import { IdempotencyCache, OutageSwitch } from './idempotency.ts';
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
import { LostResponses, requestLogEntry, TrafficRecorder, type RequestLogEntry } from './traffic.ts';

/**
 * Offline stand-in for the HostelMate client API, mounted at `/hostelmate` (client base URL
 * `http://127.0.0.1:4010/hostelmate/api/v1`). Follows target-apis.md §4 and
 * seeds/hostelmate-guest-update.txt: `X-API-Key` (one master key per property), a UUID
 * `Idempotency-Key` required on every POST and PATCH (missing → 400 `bad_request`; same key
 * and body → cached answer; same key, other body → refused), 120 requests/min per key and
 * caller IP with 429 + Retry-After, an Origin check (403), bookings created with a client
 * UUID v4 `booking.id` that also create the guest, `guestId` distinct from the booking's
 * `guest.id`. Docs silent: the error body is `{ "error": { "code", "message", "field"? } }`;
 * a repeated `booking.id` is 409 `booking_exists`; an email of an existing guest in a new
 * booking's guest is 409 `email_conflict`; a key reused with another body is 422
 * `idempotency_key_reused`; a room already full on a night is 409 `room_unavailable`.
 */

export interface HostelmateRoom {
  id: string;
  name: string;
  /** Beds: bookings that may overlap on a night. */
  beds: number;
}

export interface HostelmateGuestRecord {
  guestId: string;
  first_name: string;
  last_name: string;
  email: string;
  phone: string | null;
  country_code: string | null;
  nationality: string | null;
  date_of_birth: string | null;
  preferences: { language: string | null; newsletter: boolean; marketing: boolean };
  createdAt: string;
  updatedAt: string;
}

export interface HostelmateBookingRecord {
  id: string;
  status: 'confirmed' | 'paid' | 'cancelled';
  room: string;
  dates: { date: string; amount: number }[];
  total: number;
  notes: string | null;
  /** The guest's id as the booking shows it: NOT the guestId that /guests takes. */
  guest: { id: string; guestId: string };
  created: string;
  updated: string;
}

export interface HostelmateSandboxOptions {
  apiKeys?: string[];
  rooms?: HostelmateRoom[];
  /** Docs: 120/min per key and caller IP. A per-second window lets tests scale it. `null` disables. */
  rateLimit?: { perSecond?: number; perMinute?: number } | null;
  /** Shortens the rate windows this many times, keeping their limits (benchmarks). Default 1. */
  timeScale?: number;
  allowedOrigins?: string[];
  now?: () => number;
}

export const DEFAULT_HOSTELMATE_KEYS: readonly string[] = ['hm_live_demo000000000000000000000000'];
export const DEFAULT_HOSTELMATE_ROOMS: readonly HostelmateRoom[] = [
  { id: '3d6f1a2b-8c4e-4f5a-9b7c-0e1d2f3a4b5c', name: 'Seaside dorm', beds: 400 },
  { id: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d', name: 'Seaside double', beds: 1 },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const date = z.iso.date({ error: 'expected YYYY-MM-DD' });
const Dates = z.array(z.object({ date, amount: z.int().nonnegative() })).min(1);
const NewGuest = z.object({
  first_name: z.string().min(1),
  last_name: z.string().min(1),
  email: z.email(),
  phone: z.string().nullish(),
  country_code: z.string().nullish(),
  address: z.record(z.string(), z.unknown()).nullish(),
});
const CreateBody = z.object({
  booking: z.object({ id: z.string(), dates: Dates }),
  room: z.string(),
  guest: z.union([z.object({ id: z.string() }), NewGuest]),
  notes: z.string().nullish(),
});
const PatchBooking = z.object({ booking: z.object({ dates: Dates }).partial().optional(), room: z.string().optional(), notes: z.string().nullish() });
const StatusBody = z.object({ status: z.enum(['confirmed', 'paid', 'cancelled']).optional(), notes: z.string().nullish() });
const GuestPatch = z.object({
  guest: z.object({
    first_name: z.string().min(1).optional(),
    last_name: z.string().min(1).optional(),
    email: z.string().optional(),
    phone: z.string().nullish(),
    country_code: z.string().nullish(),
    nationality: z.string().nullish(),
    date_of_birth: z.string().nullish(),
    address: z.record(z.string(), z.unknown()).nullish(),
    preferences: z.object({ language: z.string().nullish(), newsletter: z.boolean().optional(), marketing: z.boolean().optional() }).optional(),
  }),
});

type Ctx = RouteContext<{ apiKey: string }>;

export class HostelmateSandbox implements VendorSandbox {
  readonly prefix = '/hostelmate';
  private readonly apiKeys: Set<string>;
  private readonly rooms: HostelmateRoom[];
  private readonly allowedOrigins: Set<string>;
  private readonly now: () => number;
  private readonly initialLimit: { perSecond?: number; perMinute?: number } | null;
  private readonly timeScale: number;
  private readonly api = new Router<{ apiKey: string }>();
  private readonly control = new Router();
  private readonly faults = new FaultInjector();
  private readonly traffic = new TrafficRecorder();
  private readonly idempotency = new IdempotencyCache();
  private readonly outage = new OutageSwitch();
  private readonly guestsById = new Map<string, HostelmateGuestRecord>();
  private readonly bookingsById = new Map<string, HostelmateBookingRecord>();
  private limiter: RollingWindowRateLimiter | null = null;
  private readonly lostResponses = new LostResponses();

  constructor(options: HostelmateSandboxOptions = {}) {
    this.apiKeys = new Set(options.apiKeys ?? DEFAULT_HOSTELMATE_KEYS);
    this.rooms = (options.rooms ?? DEFAULT_HOSTELMATE_ROOMS).map((r) => ({ ...r }));
    this.allowedOrigins = new Set(options.allowedOrigins ?? []);
    this.now = options.now ?? Date.now;
    this.timeScale = options.timeScale ?? 1;
    this.initialLimit = options.rateLimit === undefined ? { perMinute: 120 } : options.rateLimit;
    this.setRateLimit(this.initialLimit);
    this.api
      .add('POST', '/bookings', (ctx) => this.createBooking(ctx))
      .add('GET', '/bookings', (ctx) => this.listBookings(ctx))
      .add('PATCH', '/bookings/:id', (ctx) => this.patchBooking(ctx))
      .add('POST', '/bookings/:id/update', (ctx) => this.updateStatus(ctx))
      .add('GET', '/guests', (ctx) => this.searchGuests(ctx))
      .add('GET', '/guests/:id', ({ params }) => {
        const guest = this.guestsById.get(params.id!);
        return guest ? jsonReply(200, { guest: this.guestView(guest) }) : error(404, 'guest_not_found', 'Guest not found');
      })
      .add('PATCH', '/guests/:id', (ctx) => this.patchGuest(ctx));
    this.registerControls();
  }

  failNext(options: FailNextOptions): void {
    this.faults.failNext(options);
  }

  /** The next `count` writes whose path contains `pathIncludes` are processed, then the socket is destroyed unanswered. */
  dropResponseAfterWrite(pathIncludes: string, count = 1): void {
    this.lostResponses.add(pathIncludes, count);
  }

  setOutage(status: number | null): void {
    this.outage.set(status);
  }

  setRateLimit(limit: { perSecond?: number; perMinute?: number } | null): void {
    this.limiter = rateLimiterFor(limit, this.timeScale);
  }

  /** Changes a booking as if edited by hand in HostelMate. */
  editBooking(id: string, fields: Partial<Pick<HostelmateBookingRecord, 'status' | 'room' | 'dates'>>): void {
    const booking = this.bookingsById.get(id);
    if (!booking) throw new Error(`no HostelMate booking ${id}`);
    this.bookingsById.set(id, { ...booking, ...fields });
  }

  bookings(): HostelmateBookingRecord[] {
    return [...this.bookingsById.values()].map((b) => structuredClone(b));
  }

  guests(): HostelmateGuestRecord[] {
    return [...this.guestsById.values()].map((g) => structuredClone(g));
  }

  /** A guest HostelMate already knows (e.g. from an earlier stay booked elsewhere). */
  seedGuest(fields: { first_name: string; last_name: string; email: string; phone?: string }): HostelmateGuestRecord {
    const guest = this.newGuest(fields);
    this.guestsById.set(guest.guestId, guest);
    return structuredClone(guest);
  }

  requestLog(): RequestLogEntry[] {
    return this.traffic.entries();
  }

  counters() {
    return this.traffic.counters();
  }

  reset(): void {
    this.guestsById.clear();
    this.bookingsById.clear();
    this.traffic.clear();
    this.faults.clear();
    this.idempotency.clear();
    this.outage.set(null);
    this.lostResponses.clear();
    this.setRateLimit(this.initialLimit);
  }

  async handle(req: SandboxRequest): Promise<SandboxReply> {
    const at = this.now();
    let route = `${req.method} <unmatched>`;
    const reply = this.process(req, at, (key) => (route = key));
    const dropped = this.lostResponses.take(req, reply);
    this.traffic.record(requestLogEntry(req, at, route, reply, dropped));
    return dropped ? { dropConnection: true } : reply;
  }

  private process(req: SandboxRequest, at: number, setRoute: (key: string) => void): SandboxResponse {
    const base = '/api/v1/client';
    const path = req.path.startsWith(`${base}/`) ? req.path.slice(base.length) : undefined;
    const match = path === undefined ? ({ kind: 'not-found' } as const) : this.api.match(req.method, path);
    if (match.kind !== 'not-found') setRoute(match.key);
    const outage = this.outage.current();
    if (outage) return error(outage, 'server_error', 'Service unavailable');
    const fault = this.faults.take(req.method, req.fullPath);
    if (fault) {
      const headers = fault.status === 429 || fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter ?? 1) } : undefined;
      return error(fault.status, fault.status === 429 ? 'rate_limited' : fault.status >= 500 ? 'server_error' : 'bad_request', 'Injected failure', undefined, headers);
    }
    const origin = headerValue(req.headers, 'origin');
    if (origin !== undefined && !this.allowedOrigins.has(origin)) return error(403, 'origin_not_allowed', 'Origin not allowed (configure allowed domains)');
    const apiKey = headerValue(req.headers, 'x-api-key');
    if (!apiKey || !this.apiKeys.has(apiKey)) return error(401, 'unauthorized', 'Missing or invalid X-API-Key');
    // Docs: per key and caller IP; everything here comes from one IP.
    const decision = this.limiter?.tryAcquire(`${apiKey}|local`, at);
    if (decision && !decision.admitted) {
      return error(429, 'rate_limited', 'Too many requests', undefined, { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) });
    }
    if (match.kind === 'not-found') return error(404, 'not_found', 'Endpoint not found');
    if (match.kind === 'method-not-allowed') return error(405, 'method_not_allowed', 'Method not allowed', undefined, { Allow: match.allowed.join(', ') });

    if (req.method !== 'POST' && req.method !== 'PATCH') return match.handler({ req, params: match.params, apiKey }) as SandboxResponse;
    const key = headerValue(req.headers, 'idempotency-key');
    if (!key) return error(400, 'bad_request', 'Idempotency-Key header is required');
    if (!UUID.test(key)) return error(400, 'bad_request', 'Idempotency-Key must be a UUID', 'Idempotency-Key');
    const cached = this.idempotency.lookup(apiKey, key, req.method, req.path, req.body);
    if (cached === 'mismatch') return error(422, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different payload', 'Idempotency-Key');
    if (cached) return cached;
    const reply = match.handler({ req, params: match.params, apiKey }) as SandboxResponse;
    this.idempotency.store(apiKey, key, req.method, req.path, req.body, reply);
    return reply;
  }

  private createBooking({ req }: Ctx): SandboxResponse {
    const body = parseBody(req, CreateBody);
    if (!body.ok) return body.reply;
    const { booking, room, guest } = body.value;
    if (!UUID_V4.test(booking.id)) return error(422, 'invalid_booking_id', 'booking.id must be a UUID v4', 'booking.id');
    if (this.bookingsById.has(booking.id)) return error(409, 'booking_exists', 'A booking with this id already exists', 'booking.id');
    const dates = checkDates(booking.dates);
    if (!dates.ok) return dates.reply;
    const roomProblem = this.checkRoom(room, booking.dates, undefined);
    if (roomProblem) return roomProblem;
    let guestRecord: HostelmateGuestRecord;
    if ('id' in guest) {
      const found = this.guestsById.get(guest.id);
      if (!found) return error(404, 'guest_not_found', 'No guest with this guestId (a booking\'s guest.id is not a guestId)', 'guest.id');
      guestRecord = found;
    } else {
      const lower = guest.email.toLowerCase();
      if ([...this.guestsById.values()].some((g) => g.email.toLowerCase() === lower)) {
        return error(409, 'email_conflict', 'A guest with this email already exists', 'guest.email');
      }
      if (guest.country_code && !isCountry(guest.country_code)) return error(422, 'invalid_country_code', 'country_code must be ISO 3166-1 alpha-2', 'guest.country_code');
      guestRecord = this.newGuest(guest);
      this.guestsById.set(guestRecord.guestId, guestRecord);
    }
    const at = new Date(this.now()).toISOString();
    const record: HostelmateBookingRecord = {
      id: booking.id,
      status: 'confirmed',
      room,
      dates: booking.dates,
      total: booking.dates.reduce((sum, d) => sum + d.amount, 0),
      notes: body.value.notes ?? null,
      guest: { id: `bg_${randomUUID().slice(0, 8)}`, guestId: guestRecord.guestId },
      created: at,
      updated: at,
    };
    this.bookingsById.set(record.id, record);
    return jsonReply(201, { booking: this.bookingView(record) });
  }

  private listBookings({ req }: Ctx): SandboxResponse {
    const q = req.query;
    const page = Math.max(1, Number(q.get('page') ?? '1') || 1);
    const limit = Math.min(100, Math.max(1, Number(q.get('limit') ?? '10') || 10));
    const list = this.bookings()
      .filter((b) => !q.get('status') || b.status === q.get('status'))
      .filter((b) => !q.get('guest_id') || b.guest.guestId === q.get('guest_id'))
      // start_date / end_date: bookings with a night in the range (inclusive).
      .filter((b) => !q.get('start_date') || b.dates.some((d) => d.date >= q.get('start_date')!))
      .filter((b) => !q.get('end_date') || b.dates.some((d) => d.date <= q.get('end_date')!));
    return jsonReply(200, { results: list.slice((page - 1) * limit, page * limit).map((b) => this.bookingView(b)), total_count: list.length, total_pages: Math.ceil(list.length / limit), current_page: page });
  }

  private patchBooking({ req, params }: Ctx): SandboxResponse {
    const booking = this.bookingsById.get(params.id!);
    if (!booking) return error(404, 'booking_not_found', 'Booking not found');
    const body = parseBody(req, PatchBooking);
    if (!body.ok) return body.reply;
    const dates = body.value.booking?.dates ?? booking.dates;
    const checked = checkDates(dates);
    if (!checked.ok) return checked.reply;
    const room = body.value.room ?? booking.room;
    // Docs: the room's availability is re-validated.
    const roomProblem = this.checkRoom(room, dates, booking.id);
    if (roomProblem) return roomProblem;
    const next: HostelmateBookingRecord = {
      ...booking,
      room,
      dates,
      total: dates.reduce((sum, d) => sum + d.amount, 0),
      notes: body.value.notes === undefined ? booking.notes : body.value.notes,
      updated: new Date(this.now()).toISOString(),
    };
    this.bookingsById.set(next.id, next);
    return jsonReply(200, { booking: this.bookingView(next) });
  }

  private updateStatus({ req, params }: Ctx): SandboxResponse {
    const booking = this.bookingsById.get(params.id!);
    if (!booking) return error(404, 'booking_not_found', 'Booking not found');
    const body = parseBody(req, StatusBody);
    if (!body.ok) return body.reply;
    const next = { ...booking, status: body.value.status ?? booking.status, notes: body.value.notes === undefined ? booking.notes : body.value.notes, updated: new Date(this.now()).toISOString() };
    this.bookingsById.set(next.id, next);
    return jsonReply(200, { booking: this.bookingView(next) });
  }

  private searchGuests({ req }: Ctx): SandboxResponse {
    const q = req.query;
    const page = Number(q.get('page') ?? '1');
    const limit = Number(q.get('limit') ?? '20');
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(limit) || limit < 1 || limit > 100) return error(400, 'bad_request', 'page must be >= 1 and limit 1-100');
    const email = q.get('email')?.toLowerCase();
    const name = q.get('name')?.toLowerCase();
    const phone = q.get('phone');
    const list = this.guests()
      .filter((g) => !email || g.email.toLowerCase() === email)
      .filter((g) => !name || `${g.first_name} ${g.last_name}`.toLowerCase().includes(name))
      .filter((g) => !phone || (g.phone ?? '').includes(phone));
    if (list.length === 0) return error(404, 'guest_not_found', 'No guest matches');
    return jsonReply(200, { guests: list.slice((page - 1) * limit, page * limit).map((g) => this.guestView(g)), total_count: list.length, total_pages: Math.ceil(list.length / limit), current_page: page });
  }

  private patchGuest({ req, params }: Ctx): SandboxResponse {
    const guest = this.guestsById.get(params.id!);
    if (!guest) return error(404, 'guest_not_found', 'Guest not found');
    const body = parseBody(req, GuestPatch);
    if (!body.ok) return body.reply;
    const patch = body.value.guest;
    if (patch.email !== undefined) {
      if (!z.email().safeParse(patch.email).success) return error(400, 'bad_request', 'email is not valid', 'email');
      const lower = patch.email.toLowerCase();
      if ([...this.guestsById.values()].some((g) => g.guestId !== guest.guestId && g.email.toLowerCase() === lower)) return error(409, 'email_conflict', 'This email is already used by another guest', 'email');
    }
    for (const field of ['country_code', 'nationality'] as const) {
      const value = patch[field];
      if (value && !isCountry(value)) return error(422, 'invalid_country_code', `${field} must be ISO 3166-1 alpha-2`, field);
    }
    if (patch.date_of_birth && !date.safeParse(patch.date_of_birth).success) return error(422, 'invalid_date_format', 'date_of_birth must be YYYY-MM-DD', 'date_of_birth');
    const next: HostelmateGuestRecord = {
      ...guest,
      ...(patch.first_name !== undefined && { first_name: patch.first_name }),
      ...(patch.last_name !== undefined && { last_name: patch.last_name }),
      ...(patch.email !== undefined && { email: patch.email }),
      ...(patch.phone !== undefined && { phone: patch.phone ?? null }),
      ...(patch.country_code !== undefined && { country_code: patch.country_code ?? null }),
      ...(patch.nationality !== undefined && { nationality: patch.nationality ?? null }),
      ...(patch.date_of_birth !== undefined && { date_of_birth: patch.date_of_birth ?? null }),
      preferences: { ...guest.preferences, ...(patch.preferences && Object.fromEntries(Object.entries(patch.preferences).filter(([, v]) => v !== undefined))) },
      updatedAt: new Date(this.now()).toISOString(),
    };
    this.guestsById.set(next.guestId, next);
    return jsonReply(200, { guest: this.guestView(next) });
  }

  private checkRoom(room: string, dates: { date: string }[], except: string | undefined): SandboxResponse | undefined {
    const found = this.rooms.find((r) => r.id === room);
    if (!found) return error(422, 'room_not_found', 'No such room or room type', 'room');
    for (const { date: night } of dates) {
      const taken = [...this.bookingsById.values()].filter((b) => b.id !== except && b.room === room && b.status !== 'cancelled' && b.dates.some((d) => d.date === night)).length;
      if (taken >= found.beds) return error(409, 'room_unavailable', `The room is fully booked on ${night}`, 'room');
    }
    return undefined;
  }

  private newGuest(fields: { first_name: string; last_name: string; email: string; phone?: string | null; country_code?: string | null }): HostelmateGuestRecord {
    const at = new Date(this.now()).toISOString();
    return {
      guestId: randomUUID(),
      first_name: fields.first_name,
      last_name: fields.last_name,
      email: fields.email,
      phone: fields.phone ?? null,
      country_code: fields.country_code ?? null,
      nationality: null,
      date_of_birth: null,
      preferences: { language: null, newsletter: false, marketing: false },
      createdAt: at,
      updatedAt: at,
    };
  }

  private guestView(guest: HostelmateGuestRecord) {
    const bookings = this.bookings().filter((b) => b.guest.guestId === guest.guestId);
    return { ...guest, bookings: { total: bookings.length, lastBooking: bookings.at(-1)?.id ?? null } };
  }

  private bookingView(booking: HostelmateBookingRecord) {
    const guest = this.guestsById.get(booking.guest.guestId);
    return {
      id: booking.id,
      status: booking.status,
      total: booking.total,
      created: booking.created,
      updated: booking.updated,
      description: booking.notes,
      guest: { id: booking.guest.id, first_name: guest?.first_name, last_name: guest?.last_name, email: guest?.email, phone: guest?.phone },
      stay_dates: booking.dates.map((d) => ({ date: d.date, amount: d.amount, room: booking.room, bed: null })),
    };
  }

  handleControl(req: SandboxRequest): SandboxReply {
    return dispatchControl(this.control, req);
  }

  private registerControls(): void {
    addStandardControls(this.control, this)
      .add('GET', '/bookings', () => jsonReply(200, { bookings: this.bookings() }))
      .add('GET', '/guests', () => jsonReply(200, { guests: this.guests() }))
      .add('POST', '/rate-limit', ({ req }) => {
        const body = parseJsonWithSchema(req, z.strictObject({ perSecond: z.int().positive().optional(), perMinute: z.int().positive().optional() }).nullable());
        if (!body.ok) return body.reply;
        this.setRateLimit(body.value);
        return noContent();
      });
  }
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
function isCountry(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && regionNames.of(code) !== undefined;
}

function checkDates(dates: { date: string }[]): { ok: true } | { ok: false; reply: SandboxResponse } {
  const seen = new Set(dates.map((d) => d.date));
  if (seen.size !== dates.length) return { ok: false, reply: error(422, 'invalid_dates', 'booking.dates has the same date twice', 'booking.dates') };
  return { ok: true };
}

function error(status: number, code: string, message: string, field?: string, headers?: Record<string, string>): SandboxResponse {
  return jsonReply(status, { error: { code, message, ...(field && { field }) } }, headers);
}

function parseBody<S extends z.ZodType>(req: SandboxRequest, schema: S): { ok: true; value: z.output<S> } | { ok: false; reply: SandboxResponse } {
  let json: unknown;
  try {
    json = JSON.parse(req.body.toString('utf8'));
  } catch {
    return { ok: false, reply: error(400, 'bad_request', 'Request body is not valid JSON') };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || undefined;
  // Docs: 422 for values that fail validation (dates, codes); 400 for a malformed payload.
  const status = issue.code === 'invalid_format' ? 422 : 400;
  const code = status === 422 ? (field?.includes('date') ? 'invalid_date_format' : 'invalid_format') : 'bad_request';
  return { ok: false, reply: error(status, code, `${field ?? 'body'}: ${issue.message}`, field) };
}
