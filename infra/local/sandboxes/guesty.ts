import { readFileSync } from 'node:fs';
import { jsonReply, parseJsonWithSchema } from './http.ts';
import { JsonObject, PmsApiSandbox, type PmsApiClient, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for Guesty's Open API, mounted at `/guesty` (client base URL
 * `http://127.0.0.1:4010/guesty`): `POST /oauth2/token` (client_credentials, client in the
 * form body), `GET /v1/reservations/{id}`, `GET /v1/guests/{id}` and the reservations search
 * `GET /v1/reservations-v3/search` (bracket filters, sort, skip/limit paging). Seeded with the reservation
 * of examples/guesty-reservation.new.json and its guest, so every Guesty example can be
 * replayed against `npm start`. Data controls: `PUT /_sandbox/guesty/reservations/{id}`,
 * `PUT /_sandbox/guesty/guests/{id}` (a JSON object each), plus the shared fault controls.
 */

/** Sandbox-only demo credentials; they grant nothing anywhere else. */
export const DEFAULT_GUESTY_CLIENTS: readonly PmsApiClient[] = [{ clientId: 'demo-guesty-client', clientSecret: 'demo-guesty-secret' }];

const example = JSON.parse(readFileSync(new URL('../../../examples/guesty-reservation.new.json', import.meta.url), 'utf8')) as { reservation: Record<string, unknown> };

/** The guest the example reservation points at (values fake). */
export const GUESTY_EXAMPLE_GUEST = {
  _id: String(example.reservation.guestId),
  firstName: 'Maria',
  lastName: 'Lindqvist',
  fullName: 'Maria Lindqvist',
  email: 'maria.lindqvist@example.com',
  phone: '+46701234567',
  preferredLanguage: 'sv',
};

/** The search's filters and their operators (Guesty's Search Reservations reference). */
const FILTER_OPERATORS = new Map<string, readonly string[]>(Object.entries({
  status: ['eq', 'ne', 'in', 'nin'],
  listingId: ['eq', 'in'],
  confirmationCode: ['eq', 'in'],
  source: ['eq', 'in'],
  checkIn: ['eq', 'gte', 'gt', 'lte', 'lt'],
  checkOut: ['eq', 'gte', 'gt', 'lte', 'lt'],
  createdAt: ['eq', 'gte', 'gt', 'lte', 'lt'],
}));
/** Dates filter and sort on the listing-local dates. */
const FILTER_FIELDS = new Map([['checkIn', 'checkInDateLocalized'], ['checkOut', 'checkOutDateLocalized']]);
const DATE_FIELDS = new Set(['checkIn', 'checkOut', 'createdAt']);
const SORT_FIELDS = new Set(['_id', 'checkIn', 'checkOut', 'createdAt']);

export class GuestySandbox extends PmsApiSandbox {
  private reservations = new Map<string, Record<string, unknown>>();
  private guests = new Map<string, Record<string, unknown>>();

  constructor(options: PmsApiSandboxOptions = {}) {
    super('/guesty', { kind: 'oauth', tokenPath: '/oauth2/token', clients: DEFAULT_GUESTY_CLIENTS }, options);
    this.resetData();
    this.api
      .add('GET', '/v1/reservations/:id', ({ params }) => this.found(this.reservations.get(params.id!), 'reservation'))
      .add('GET', '/v1/guests/:id', ({ params }) => this.found(this.guests.get(params.id!), 'guest'))
      .add('GET', '/v1/reservations-v3/search', ({ req }) => this.search(req.query));
    this.control
      .add('PUT', '/reservations/:id', ({ req, params }) => {
        const body = parseJsonWithSchema(req, JsonObject);
        if (!body.ok) return body.reply;
        return jsonReply(200, this.putReservation({ ...body.value, _id: params.id! }));
      })
      .add('PUT', '/guests/:id', ({ req, params }) => {
        const body = parseJsonWithSchema(req, JsonObject);
        if (!body.ok) return body.reply;
        return jsonReply(200, this.putGuest({ ...body.value, _id: params.id! }));
      });
  }

  /** Adds or replaces a reservation (keyed by `_id`); returns what the API will serve. */
  putReservation(reservation: Record<string, unknown>): Record<string, unknown> {
    const copy = structuredClone(reservation);
    this.reservations.set(String(copy._id), copy);
    return structuredClone(copy);
  }

  putGuest(guest: Record<string, unknown>): Record<string, unknown> {
    const copy = structuredClone(guest);
    this.guests.set(String(copy._id), copy);
    return structuredClone(copy);
  }

  protected resetData(): void {
    this.reservations = new Map([[String(example.reservation._id), structuredClone(example.reservation)]]);
    this.guests = new Map([[GUESTY_EXAMPLE_GUEST._id, { ...GUESTY_EXAMPLE_GUEST }]]);
  }

  /**
   * The search as Guesty documents it: `filter[field]=v` (eq, or in when comma-separated) or
   * `filter[field][op]=v`; dates compare the listing-local dates; `sort` one of `_id`, `checkIn`,
   * `checkOut`, `createdAt` (`-` for descending, default `-_id`); `skip` and `limit` (25 by
   * default, at most 100). Anything else is a 400, as documented. Items are a projection of the
   * reservation without guest contact.
   */
  private search(query: URLSearchParams) {
    const bad = (message: string) => jsonReply(400, { error: { code: 'BAD_REQUEST', message } });
    const skip = Number(query.get('skip') ?? '0');
    const limit = Number(query.get('limit') ?? '25');
    if (!Number.isInteger(skip) || skip < 0 || !Number.isInteger(limit) || limit < 1 || limit > 100) return bad('skip must be 0 or more and limit from 1 to 100');
    const sort = query.get('sort') ?? '-_id';
    const sortField = sort.replace(/^-/, '');
    if (!SORT_FIELDS.has(sortField)) return bad(`unsupported sort "${sort}"`);
    const tests: ((r: Record<string, unknown>) => boolean)[] = [];
    for (const [key, value] of query) {
      if (!key.startsWith('filter[')) continue;
      const match = /^filter\[(\w+)\](?:\[(\w+)\])?$/.exec(key);
      const field = match?.[1] ?? '';
      const op = match?.[2] ?? (value.includes(',') ? 'in' : 'eq');
      const operators = FILTER_OPERATORS.get(field);
      // Date fields need an explicit operator.
      const needsOperator = DATE_FIELDS.has(field) && !match?.[2];
      if (!match || !operators?.includes(op) || needsOperator) return bad(`unsupported filter "${key}"`);
      const read = (r: Record<string, unknown>) => String(r[FILTER_FIELDS.get(field) ?? field] ?? '');
      const set = value.split(',');
      const compare: Record<string, (have: string) => boolean> = {
        eq: (have) => have === value,
        ne: (have) => have !== value,
        in: (have) => set.includes(have),
        nin: (have) => !set.includes(have),
        gte: (have) => have >= value,
        gt: (have) => have > value,
        lte: (have) => have <= value,
        lt: (have) => have < value,
      };
      tests.push((r) => compare[op]!(read(r)));
    }
    const key = (r: Record<string, unknown>) => String(r[FILTER_FIELDS.get(sortField) ?? sortField] ?? '');
    const direction = sort.startsWith('-') ? -1 : 1;
    const matching = [...this.reservations.values()].filter((r) => tests.every((test) => test(r))).sort((a, b) => direction * key(a).localeCompare(key(b)));
    const results = matching.slice(skip, skip + limit).map((r) => ({
      reservationId: r._id,
      status: r.status,
      confirmationCode: r.confirmationCode,
      source: r.source,
      listingId: r.listingId,
      checkInDateLocalized: r.checkInDateLocalized,
      checkOutDateLocalized: r.checkOutDateLocalized,
      createdAt: r.createdAt,
      stay: [{ unitId: r.listingId, checkInDateLocalized: r.checkInDateLocalized, checkOutDateLocalized: r.checkOutDateLocalized }],
    }));
    return jsonReply(200, { results, pagination: { skip, limit, hasMore: skip + results.length < matching.length } });
  }

  private found(record: Record<string, unknown> | undefined, what: string) {
    // Guesty's error body shape: {"error":{"code","message"}}.
    return record ? jsonReply(200, structuredClone(record)) : jsonReply(404, { error: { code: 'NOT_FOUND', message: `${what} not found` } });
  }
}
