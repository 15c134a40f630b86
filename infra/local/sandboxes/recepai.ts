import { randomBytes } from 'node:crypto';
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
 * Offline stand-in for the RecepAI PMS API, mounted at `/recepai` (client base URL
 * `http://127.0.0.1:4010/recepai/api/pms/v1`). Follows the docs summarised in
 * /work/shared/reference/target-apis.md §2 and seeds/recepai-guest-update.txt: Bearer
 * `pms_live_`/`pms_test_` keys per hotel, POST checkin/update/checkout/sync with a required
 * `Idempotency-Key`, GET guests, the `{status:"error",code,message,field?,requestId}` error
 * body and its codes, 429 `RATE_LIMITED` with Retry-After. "Docs silent" marks choices.
 */

export interface RecepaiHotel {
  slug: string;
  liveKey: string;
  testKey: string;
  rooms: string[];
}

export interface RecepaiGuestRecord {
  guestId: string;
  pmsGuestId: string;
  firstName: string | null;
  lastName: string;
  roomNumber: string;
  checkInDate: string;
  checkOutDate: string;
  phone: string | null;
  email: string | null;
  language: string;
  nationality: string | null;
  adults: number;
  children: number;
  source: 'pms';
  createdAt: string;
  /** Set when checked out (the guest is then no longer active). */
  checkedOutAt: string | null;
}

export interface RecepaiRateLimit {
  perSecond?: number;
  perMinute?: number;
}

export interface RecepaiSandboxOptions {
  hotels?: RecepaiHotel[];
  /** Docs give no numbers. Default 120/min per key; `null` disables limiting. */
  rateLimit?: RecepaiRateLimit | null;
  retryAfterSeconds?: number;
  now?: () => number;
}

/** Sandbox-only demo keys; they grant nothing anywhere else. */
export const DEFAULT_RECEPAI_HOTELS: readonly RecepaiHotel[] = [
  {
    slug: 'seaside-hotel',
    liveKey: 'pms_live_5eas1de0000000000000000000000000',
    testKey: 'pms_test_5eas1de0000000000000000000000000',
    rooms: ['101', '102', '103', '201', '202', '203', '301', '302', '305'],
  },
  {
    slug: 'city-hotel',
    liveKey: 'pms_live_c17y0000000000000000000000000000',
    testKey: 'pms_test_c17y0000000000000000000000000000',
    rooms: ['1', '2', '3', '4', '5'],
  },
];

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Ctx = RouteContext<{ hotel: RecepaiHotel; test: boolean }>;

export class RecepaiSandbox implements VendorSandbox {
  readonly prefix = '/recepai';
  private readonly hotels: RecepaiHotel[];
  private readonly initialHotels: readonly RecepaiHotel[];
  private readonly now: () => number;
  private readonly retryAfterSeconds: number;
  private readonly initialRateLimit: RecepaiRateLimit | null;
  private readonly api = new Router<{ hotel: RecepaiHotel; test: boolean }>();
  private readonly control = new Router();
  private readonly faults = new FaultInjector();
  private readonly traffic = new TrafficRecorder();
  private readonly idempotency = new IdempotencyCache();
  private readonly outage = new OutageSwitch();
  private readonly revoked = new Set<string>();
  /** Every guest ever checked in, by guestId; active ones have no checkedOutAt. */
  private readonly guestsById = new Map<string, RecepaiGuestRecord & { slug: string }>();
  private limiter: RollingWindowRateLimiter | null = null;
  private readonly lostResponses = new LostResponses();
  private rateLimit: RecepaiRateLimit | null = null;

  constructor(options: RecepaiSandboxOptions = {}) {
    this.initialHotels = options.hotels ?? DEFAULT_RECEPAI_HOTELS;
    this.hotels = this.initialHotels.map((h) => ({ ...h, rooms: [...h.rooms] }));
    this.now = options.now ?? Date.now;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.initialRateLimit = options.rateLimit === undefined ? { perMinute: 120 } : options.rateLimit;
    this.setRateLimit(this.initialRateLimit);
    this.api
      .add('POST', '/:slug/guests/checkin', (ctx) => this.checkin(ctx))
      .add('POST', '/:slug/guests/update', (ctx) => this.update(ctx))
      .add('POST', '/:slug/guests/checkout', (ctx) => this.checkout(ctx))
      .add('POST', '/:slug/guests/sync', (ctx) => this.fullSync(ctx))
      .add('GET', '/:slug/guests', (ctx) => this.listActive(ctx));
    this.registerControls();
  }

  // ---- programmatic controls

  failNext(options: FailNextOptions): void {
    this.faults.failNext(options);
  }

  /** The next `count` writes whose path contains `pathIncludes` are processed, then the socket is destroyed unanswered. */
  dropResponseAfterWrite(pathIncludes: string, count = 1): void {
    this.lostResponses.add(pathIncludes, count);
  }

  /** Every API request answers `status` (e.g. 503) until called with null. */
  setOutage(status: number | null): void {
    this.outage.set(status);
  }

  setRateLimit(limit: RecepaiRateLimit | null): void {
    this.limiter = rateLimiterFor(limit);
    this.rateLimit = this.limiter ? limit : null;
  }

  /** Docs: revoking invalidates both keys of the pair; they then answer 401 KEY_REVOKED. */
  revokeKeys(slug: string): void {
    const hotel = this.hotels.find((h) => h.slug === slug);
    if (hotel) {
      this.revoked.add(hotel.liveKey);
      this.revoked.add(hotel.testKey);
    }
  }

  /** Docs: regenerating issues a new pair; the old keys are then unknown here (401 UNAUTHORIZED). */
  regenerateKeys(slug: string): { liveKey: string; testKey: string } | undefined {
    const hotel = this.hotels.find((h) => h.slug === slug);
    if (!hotel) return undefined;
    hotel.liveKey = `pms_live_${randomBytes(16).toString('hex')}`;
    hotel.testKey = `pms_test_${randomBytes(16).toString('hex')}`;
    return { liveKey: hotel.liveKey, testKey: hotel.testKey };
  }

  /** All guests ever checked in at a hotel (active ones have `checkedOutAt: null`). */
  guests(slug?: string): (RecepaiGuestRecord & { slug: string })[] {
    return [...this.guestsById.values()].filter((g) => slug === undefined || g.slug === slug).map((g) => structuredClone(g));
  }

  activeGuests(slug?: string): (RecepaiGuestRecord & { slug: string })[] {
    return this.guests(slug).filter((g) => g.checkedOutAt === null);
  }

  /** Puts a guest in house directly, e.g. one checked in at the front desk occupying a room. */
  seedGuest(slug: string, guest: { pmsGuestId: string; lastName: string; roomNumber: string; checkInDate: string; checkOutDate: string }): RecepaiGuestRecord {
    const record = this.newGuest(slug, { ...guest });
    this.guestsById.set(record.guestId, record);
    return structuredClone(record);
  }

  /** Checks a guest out as the front desk would, without the PMS knowing. */
  checkOutAtFrontDesk(slug: string, pmsGuestId: string): void {
    for (const guest of this.guestsById.values()) {
      if (guest.slug === slug && guest.pmsGuestId === pmsGuestId && guest.checkedOutAt === null) guest.checkedOutAt = new Date(this.now()).toISOString();
    }
  }

  requestLog(): RequestLogEntry[] {
    return this.traffic.entries();
  }

  counters() {
    return this.traffic.counters();
  }

  reset(): void {
    this.guestsById.clear();
    this.traffic.clear();
    this.faults.clear();
    this.idempotency.clear();
    this.revoked.clear();
    this.hotels.splice(0, this.hotels.length, ...this.initialHotels.map((h) => ({ ...h, rooms: [...h.rooms] })));
    this.outage.set(null);
    this.lostResponses.clear();
    this.setRateLimit(this.initialRateLimit);
  }

  // ---- API

  async handle(req: SandboxRequest): Promise<SandboxReply> {
    const at = this.now();
    let route = `${req.method} <unmatched>`;
    const reply = await this.process(req, at, (key) => (route = key));
    const dropped = this.lostResponses.take(req, reply);
    this.traffic.record(requestLogEntry(req, at, route, reply, dropped));
    return dropped ? { dropConnection: true } : reply;
  }

  private async process(req: SandboxRequest, at: number, setRoute: (key: string) => void): Promise<SandboxResponse> {
    const requestId = `req_${randomBytes(6).toString('hex')}`;
    const base = '/api/pms/v1';
    const path = req.path.startsWith(`${base}/`) ? req.path.slice(base.length) : undefined;
    const match = path === undefined ? ({ kind: 'not-found' } as const) : this.api.match(req.method, path);
    if (match.kind !== 'not-found') setRoute(match.key);

    const outage = this.outage.current();
    if (outage) return error(outage, 'INTERNAL_ERROR', 'Service unavailable', requestId);
    const fault = this.faults.take(req.method, req.fullPath);
    if (fault) {
      const headers = fault.status === 429 || fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter ?? this.retryAfterSeconds) } : undefined;
      return error(fault.status, fault.status === 429 ? 'RATE_LIMITED' : fault.status >= 500 ? 'INTERNAL_ERROR' : 'FIELD_INVALID', 'Injected failure', requestId, undefined, headers);
    }

    const key = headerValue(req.headers, 'authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (key && this.revoked.has(key)) return error(401, 'KEY_REVOKED', 'This API key has been revoked', requestId);
    const hotel = key ? this.hotels.find((h) => h.liveKey === key || h.testKey === key) : undefined;
    if (!key || !hotel) return error(401, 'UNAUTHORIZED', 'Missing or invalid API key', requestId);
    if (match.kind === 'not-found') return error(404, 'NOT_FOUND', `No endpoint at ${req.fullPath}`, requestId);
    if (match.kind === 'method-not-allowed') return error(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', requestId, undefined, { Allow: match.allowed.join(', ') });
    // Docs silent: a key used for another hotel's slug is refused like a wrong key.
    if (match.params.slug !== hotel.slug) return error(401, 'UNAUTHORIZED', 'This API key does not belong to this hotel', requestId);

    const decision = this.limiter?.tryAcquire(key, at);
    if (decision && !decision.admitted) {
      const seconds = Math.max(this.retryAfterSeconds, Math.ceil(decision.retryAfterMs / 1000));
      return error(429, 'RATE_LIMITED', 'Too many requests', requestId, undefined, { 'Retry-After': String(seconds) });
    }

    const test = key === hotel.testKey;
    if (req.method !== 'POST') return this.reply(await match.handler({ req, params: match.params, hotel, test }), requestId);

    const idempotencyKey = headerValue(req.headers, 'idempotency-key');
    if (!idempotencyKey || idempotencyKey.length > 255) {
      return error(400, 'FIELD_REQUIRED', 'Idempotency-Key header is required (1-255 characters)', requestId, 'Idempotency-Key');
    }
    const cached = this.idempotency.lookup(key, idempotencyKey, req.method, req.path, req.body);
    // Docs silent on a reused key with another body: refused, as the IETF idempotency-key draft does.
    if (cached === 'mismatch') return error(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request', requestId, 'Idempotency-Key');
    if (cached) return cached;
    const reply = this.reply(await match.handler({ req, params: match.params, hotel, test }), requestId);
    this.idempotency.store(key, idempotencyKey, req.method, req.path, req.body, reply);
    return reply;
  }

  private reply(reply: SandboxReply, requestId: string): SandboxResponse {
    if (!('status' in reply)) throw new Error('unexpected reply');
    if (reply.body && typeof reply.body === 'object' && !Array.isArray(reply.body)) {
      return { ...reply, body: { ...(reply.body as object), requestId } };
    }
    return reply;
  }

  private checkin({ req, hotel, test }: Ctx): SandboxResponse {
    const parsed = parseObject(req);
    if (!parsed.ok) return parsed.reply;
    const body = parsed.value;
    const validated = this.validate(body, hotel, true);
    if (!validated.ok) return validated.reply;
    const checked = validated.value;
    const active = this.active(hotel.slug);
    if (active.some((g) => g.pmsGuestId === checked.pmsGuestId)) {
      return error(409, 'DUPLICATE_GUEST', `An active guest with pmsGuestId ${checked.pmsGuestId} already exists`);
    }
    const occupied = this.occupiedBy(hotel.slug, checked.roomNumber!, undefined);
    if (occupied) return roomOccupied(checked.roomNumber!, occupied);
    if (test) return jsonReply(200, { status: 'created', guestId: `test_${randomBytes(6).toString('hex')}`, pmsGuestId: checked.pmsGuestId, roomNumber: checked.roomNumber, _sandbox: true });
    const guest = this.newGuest(hotel.slug, checked);
    this.guestsById.set(guest.guestId, guest);
    return jsonReply(200, { status: 'created', guestId: guest.guestId, pmsGuestId: guest.pmsGuestId, roomNumber: guest.roomNumber });
  }

  private update({ req, hotel, test }: Ctx): SandboxResponse {
    const parsed = parseObject(req);
    if (!parsed.ok) return parsed.reply;
    const body = parsed.value;
    const validated = this.validate(body, hotel, false);
    if (!validated.ok) return validated.reply;
    const checked = validated.value;
    const guest = this.active(hotel.slug).find((g) => g.pmsGuestId === checked.pmsGuestId);
    if (!guest) return error(404, 'GUEST_NOT_FOUND', `No active guest found with pmsGuestId: ${checked.pmsGuestId}`);
    if (checked.roomNumber !== undefined && checked.roomNumber !== guest.roomNumber) {
      const occupied = this.occupiedBy(hotel.slug, checked.roomNumber, guest.guestId);
      if (occupied) return roomOccupied(checked.roomNumber, occupied);
    }
    const checkIn = checked.checkInDate ?? guest.checkInDate;
    const checkOut = checked.checkOutDate ?? guest.checkOutDate;
    if (checkOut < checkIn) return error(400, 'FIELD_INVALID', 'checkOutDate must not be before checkInDate', undefined, 'checkOutDate');
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    const next = { ...guest };
    for (const [field, value] of Object.entries(checked)) {
      if (field === 'pmsGuestId' || value === undefined) continue;
      const current = (guest as unknown as Record<string, unknown>)[field];
      if (current !== value) {
        changes[field] = { from: current ?? null, to: value };
        (next as unknown as Record<string, unknown>)[field] = value;
      }
    }
    // Docs: a room change is a move (old assignment ended, new one made); here, the room field changes.
    if (!test) this.guestsById.set(guest.guestId, next);
    return jsonReply(200, { status: 'updated', guestId: guest.guestId, pmsGuestId: guest.pmsGuestId, changes, ...(test && { _sandbox: true }) });
  }

  private checkout({ req, hotel, test }: Ctx): SandboxResponse {
    const parsed = parseObject(req);
    if (!parsed.ok) return parsed.reply;
    const body = parsed.value;
    const pmsGuestId = body.pmsGuestId;
    if (typeof pmsGuestId !== 'string' || pmsGuestId.length === 0) return error(400, 'FIELD_REQUIRED', 'pmsGuestId is required', undefined, 'pmsGuestId');
    const checkoutTime = body.checkoutTime;
    if (checkoutTime !== undefined && (typeof checkoutTime !== 'string' || Number.isNaN(Date.parse(checkoutTime)))) {
      return error(422, 'INVALID_DATE_FORMAT', 'checkoutTime must be an ISO 8601 date-time', undefined, 'checkoutTime');
    }
    const guest = this.active(hotel.slug).find((g) => g.pmsGuestId === pmsGuestId);
    if (!guest) {
      // Docs: intentionally idempotent.
      return jsonReply(200, { status: 'already_checked_out', pmsGuestId, message: 'Guest was already checked out or not found' });
    }
    const at = typeof checkoutTime === 'string' ? new Date(checkoutTime).toISOString() : new Date(this.now()).toISOString();
    if (!test) this.guestsById.set(guest.guestId, { ...guest, checkedOutAt: at });
    return jsonReply(200, { status: 'checked_out', guestId: guest.guestId, pmsGuestId, roomNumber: guest.roomNumber, stayDuration: { checkIn: guest.createdAt, checkOut: at } });
  }

  /** Docs: every PMS-sourced guest not in the list is checked out. Docs silent on the response shape. */
  private fullSync({ req, hotel, test }: Ctx): SandboxResponse {
    const parsed = parseObject(req);
    if (!parsed.ok) return parsed.reply;
    const body = parsed.value;
    if (body.syncMode !== 'full') return error(400, 'FIELD_INVALID', 'syncMode must be "full"', undefined, 'syncMode');
    if (!Array.isArray(body.guests)) return error(400, 'FIELD_REQUIRED', 'guests is required', undefined, 'guests');
    const listed = new Set(body.guests.map((g) => (g && typeof g === 'object' ? (g as Record<string, unknown>).pmsGuestId : undefined)));
    let checkedOut = 0;
    for (const guest of this.active(hotel.slug)) {
      if (!listed.has(guest.pmsGuestId)) {
        checkedOut++;
        if (!test) this.guestsById.set(guest.guestId, { ...guest, checkedOutAt: new Date(this.now()).toISOString() });
      }
    }
    return jsonReply(200, { status: 'synced', checkedOut });
  }

  private listActive({ hotel }: Ctx): SandboxResponse {
    const guests = this.active(hotel.slug).map((g) => ({
      pmsGuestId: g.pmsGuestId,
      firstName: g.firstName,
      lastName: g.lastName,
      roomNumber: g.roomNumber,
      checkInDate: g.checkInDate,
      checkOutDate: g.checkOutDate,
      phone: g.phone,
      source: 'pms',
      createdAt: g.createdAt,
    }));
    return jsonReply(200, { guests, count: guests.length });
  }

  private active(slug: string) {
    return [...this.guestsById.values()].filter((g) => g.slug === slug && g.checkedOutAt === null);
  }

  private occupiedBy(slug: string, room: string, except: string | undefined) {
    return this.active(slug).find((g) => g.roomNumber === room && g.guestId !== except);
  }

  private newGuest(slug: string, fields: Partial<RecepaiGuestRecord>): RecepaiGuestRecord & { slug: string } {
    return {
      slug,
      guestId: randomBytes(8).toString('hex'),
      pmsGuestId: fields.pmsGuestId!,
      firstName: fields.firstName ?? null,
      lastName: fields.lastName!,
      roomNumber: fields.roomNumber!,
      checkInDate: fields.checkInDate ?? new Date(this.now()).toISOString().slice(0, 10),
      checkOutDate: fields.checkOutDate!,
      phone: fields.phone ?? null,
      email: fields.email ?? null,
      language: fields.language ?? 'en',
      nationality: fields.nationality ?? null,
      adults: fields.adults ?? 1,
      children: fields.children ?? 0,
      source: 'pms',
      createdAt: new Date(this.now()).toISOString(),
      checkedOutAt: null,
    };
  }

  /** Field checks in the docs' terms: FIELD_REQUIRED/FIELD_INVALID (400), INVALID_* and ROOM_NOT_FOUND (422). */
  private validate(body: Record<string, unknown>, hotel: RecepaiHotel, full: boolean): Result<Partial<RecepaiGuestRecord>> {
    const checked = this.check(body, hotel, full);
    return 'status' in checked && typeof checked.status === 'number' ? { ok: false, reply: checked as SandboxResponse } : { ok: true, value: checked as Partial<RecepaiGuestRecord> };
  }

  private check(body: Record<string, unknown>, hotel: RecepaiHotel, full: boolean): Record<string, unknown> | SandboxResponse {
    const out: Record<string, unknown> = {};
    const str = (field: string, max: number, required: boolean): SandboxResponse | undefined => {
      const value = body[field];
      if (value === undefined || value === null) return required ? error(400, 'FIELD_REQUIRED', `${field} is required`, undefined, field) : undefined;
      if (typeof value !== 'string' || value.length === 0 || value.length > max) return error(400, 'FIELD_INVALID', `${field} must be a string of 1-${max} characters`, undefined, field);
      out[field] = value;
      return undefined;
    };
    const problem =
      str('pmsGuestId', 255, true) ??
      str('lastName', 100, full) ??
      str('firstName', 100, false) ??
      str('roomNumber', 50, full) ??
      str('checkOutDate', 10, full) ??
      str('checkInDate', 10, false) ??
      str('phone', 20, false) ??
      str('email', 254, false) ??
      str('language', 2, false) ??
      str('nationality', 2, false) ??
      (full ? str('notes', 2000, false) : undefined);
    if (problem) return problem;
    for (const field of ['checkInDate', 'checkOutDate'] as const) {
      const value = out[field] as string | undefined;
      if (value !== undefined && (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))) {
        return error(422, 'INVALID_DATE_FORMAT', `${field} must be YYYY-MM-DD`, undefined, field);
      }
    }
    if (full) {
      out.checkInDate ??= new Date(this.now()).toISOString().slice(0, 10);
      if ((out.checkOutDate as string) < (out.checkInDate as string)) return error(400, 'FIELD_INVALID', 'checkOutDate must not be before checkInDate', undefined, 'checkOutDate');
    }
    if (out.phone !== undefined && !E164.test(out.phone as string)) return error(422, 'INVALID_PHONE_FORMAT', 'phone must be in E.164 format', undefined, 'phone');
    if (out.email !== undefined && !EMAIL.test(out.email as string)) return error(400, 'FIELD_INVALID', 'email is not a valid address', undefined, 'email');
    if (out.language !== undefined && !/^[a-z]{2}$/.test(out.language as string)) return error(400, 'FIELD_INVALID', 'language must be ISO 639-1', undefined, 'language');
    if (out.nationality !== undefined && !/^[A-Z]{2}$/.test(out.nationality as string)) return error(400, 'FIELD_INVALID', 'nationality must be ISO 3166-1 alpha-2', undefined, 'nationality');
    for (const [field, min] of [['adults', 1], ['children', 0]] as const) {
      const value = body[field];
      if (value === undefined) continue;
      if (!Number.isInteger(value) || (value as number) < min || (value as number) > 20) return error(400, 'FIELD_INVALID', `${field} must be an integer from ${min} to 20`, undefined, field);
      out[field] = value;
    }
    if (out.roomNumber !== undefined && !hotel.rooms.includes(out.roomNumber as string)) {
      return error(422, 'ROOM_NOT_FOUND', `Room ${String(out.roomNumber)} does not exist in this hotel`, undefined, 'roomNumber');
    }
    return out;
  }

  // ---- controls under /_sandbox/recepai

  handleControl(req: SandboxRequest): SandboxReply {
    return dispatchControl(this.control, req);
  }

  private registerControls(): void {
    addStandardControls(this.control, this)
      .add('GET', '/guests', ({ req }) => jsonReply(200, { guests: this.guests(req.query.get('slug') ?? undefined) }))
      .add('POST', '/rate-limit', ({ req }) => {
        const body = parseJsonWithSchema(req, z.strictObject({ perSecond: z.int().positive().optional(), perMinute: z.int().positive().optional() }).nullable());
        if (!body.ok) return body.reply;
        this.setRateLimit(body.value);
        return jsonReply(200, { rateLimit: this.rateLimit });
      })
      .add('POST', '/revoke', ({ req }) => {
        const body = parseJsonWithSchema(req, z.strictObject({ slug: z.string() }));
        if (!body.ok) return body.reply;
        this.revokeKeys(body.value.slug);
        return noContent();
      });
  }
}

function error(status: number, code: string, message: string, requestId?: string, field?: string, headers?: Record<string, string>): SandboxResponse {
  return jsonReply(status, { status: 'error', code, message, ...(field && { field }), ...(requestId && { requestId }) }, headers);
}

function roomOccupied(room: string, occupant: RecepaiGuestRecord): SandboxResponse {
  return jsonReply(409, {
    status: 'error',
    code: 'ROOM_OCCUPIED',
    message: `Room ${room} is already occupied by an active guest`,
    currentGuest: { pmsGuestId: occupant.pmsGuestId, lastName: occupant.lastName, checkInDate: occupant.checkInDate },
  });
}

type Result<T> = { ok: true; value: T } | { ok: false; reply: SandboxResponse };

function parseObject(req: SandboxRequest): Result<Record<string, unknown>> {
  try {
    const value: unknown = JSON.parse(req.body.toString('utf8') || 'null');
    if (value && typeof value === 'object' && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
  } catch {
    // fall through
  }
  return { ok: false, reply: error(400, 'INVALID_JSON', 'Request body must be a JSON object') };
}
