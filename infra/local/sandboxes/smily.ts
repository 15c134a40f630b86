import { readFileSync } from 'node:fs';
import { headerValue, jsonReply, parseJsonWithSchema, type SandboxRequest } from './http.ts';
import { JsonObject, PmsApiSandbox, type PmsApiClient, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for the Smily (BookingSync) API v3, mounted at `/smily` (client base URL
 * `http://127.0.0.1:4010/smily`): `POST /oauth/token` (client_credentials),
 * `GET /api/v3/bookings/{id}`, `GET /api/v3/bookings` (documented filters `client_id`,
 * `rental_id`, `from` (default now: bookings ending after it), `until`, `status`,
 * `include_canceled`; pages of `per_page` with a `Link: rel="next"`), `GET /api/v3/clients/{id}`.
 * Records are wrapped the API v3 way: `{"links":{},"bookings":[...],"meta":{}}`. Seeded with
 * the booking and client of examples/smily-*.json. Data controls:
 * `PUT|DELETE /_sandbox/smily/bookings/{id}`, `PUT /_sandbox/smily/clients/{id}`.
 */

/** Sandbox-only demo credentials; they grant nothing anywhere else. */
export const DEFAULT_SMILY_CLIENTS: readonly PmsApiClient[] = [{ clientId: 'demo-smily-client', clientSecret: 'demo-smily-secret' }];

const read = (name: string) => JSON.parse(readFileSync(new URL(`../../../examples/${name}`, import.meta.url), 'utf8')) as { resource: Record<string, Record<string, unknown>> };
const exampleBooking = read('smily-booking_created.json').resource.booking!;
const exampleClient = read('smily-client_created.json').resource.client!;

const DEFAULT_PER_PAGE = 100;

export interface SmilySandboxOptions extends PmsApiSandboxOptions {
  /** Page size when the client sends no `per_page` (default 100); tests set it low to make lists page. */
  defaultPerPage?: number;
}

export class SmilySandbox extends PmsApiSandbox {
  private bookings = new Map<string, Record<string, unknown>>();
  private clients = new Map<string, Record<string, unknown>>();
  private readonly defaultPerPage: number;

  constructor(options: SmilySandboxOptions = {}) {
    super('/smily', { kind: 'oauth', tokenPath: '/oauth/token', clients: DEFAULT_SMILY_CLIENTS }, options);
    this.defaultPerPage = options.defaultPerPage ?? DEFAULT_PER_PAGE;
    this.resetData();
    this.api
      .add('GET', '/api/v3/bookings', ({ req }) => this.listBookings(req))
      .add('GET', '/api/v3/bookings/:id', ({ params }) => this.one('bookings', this.bookings.get(params.id!)))
      .add('GET', '/api/v3/clients/:id', ({ params }) => this.one('clients', this.clients.get(params.id!)));
    this.control
      .add('PUT', '/bookings/:id', ({ req, params }) => {
        const body = parseJsonWithSchema(req, JsonObject);
        if (!body.ok) return body.reply;
        return jsonReply(200, this.putBooking({ ...body.value, id: Number(params.id) }));
      })
      .add('DELETE', '/bookings/:id', ({ params }) => {
        this.deleteBooking(params.id!);
        return { status: 204 };
      })
      .add('PUT', '/clients/:id', ({ req, params }) => {
        const body = parseJsonWithSchema(req, JsonObject);
        if (!body.ok) return body.reply;
        return jsonReply(200, this.putClient({ ...body.value, id: Number(params.id) }));
      });
  }

  /** Adds or replaces a booking (keyed by `id`). */
  putBooking(booking: Record<string, unknown>): Record<string, unknown> {
    const copy = structuredClone(booking);
    this.bookings.set(String(copy.id), copy);
    return structuredClone(copy);
  }

  /** A destroyed booking: the API answers 404 for it from now on. */
  deleteBooking(id: string | number): void {
    this.bookings.delete(String(id));
  }

  putClient(client: Record<string, unknown>): Record<string, unknown> {
    const copy = structuredClone(client);
    this.clients.set(String(copy.id), copy);
    return structuredClone(copy);
  }

  protected resetData(): void {
    this.bookings = new Map([[String(exampleBooking.id), structuredClone(exampleBooking)]]);
    this.clients = new Map([[String(exampleClient.id), structuredClone(exampleClient)]]);
  }

  private one(plural: 'bookings' | 'clients', record: Record<string, unknown> | undefined) {
    if (!record) return jsonReply(404, { errors: [{ code: 'not_found', title: 'Record not found' }] });
    return jsonReply(200, { links: {}, [plural]: [structuredClone(record)], meta: {} });
  }

  private listBookings(req: SandboxRequest) {
    const q = req.query;
    const list = (name: string) => q.get(name)?.split(',').filter((v) => v !== '');
    const day = (name: string) => {
      const value = q.get(name);
      return value && /^\d{8}$/.test(value) ? Date.parse(`${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T00:00:00Z`) : undefined;
    };
    const from = day('from') ?? this.now();
    const until = day('until');
    const clients = list('client_id');
    const rentals = list('rental_id');
    const statuses = list('status')?.map((s) => s.toLowerCase());
    const withCanceled = q.get('include_canceled') === 'true';
    const links = (b: Record<string, unknown>) => (b.links ?? {}) as Record<string, unknown>;
    const matching = [...this.bookings.values()]
      .filter((b) => Date.parse(String(b.end_at)) > from)
      .filter((b) => until === undefined || Date.parse(String(b.start_at)) < until)
      .filter((b) => !clients || clients.includes(String(links(b).client)))
      .filter((b) => !rentals || rentals.includes(String(links(b).rental)))
      .filter((b) => !statuses || statuses.includes(String(b.status).toLowerCase()))
      .filter((b) => withCanceled || (b.status !== 'Canceled' && !b.canceled_at))
      .sort((a, b) => Number(a.id) - Number(b.id));
    const perPage = Math.min(100, Math.max(1, Number(q.get('per_page') ?? this.defaultPerPage) || this.defaultPerPage));
    const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
    const pages = Math.max(1, Math.ceil(matching.length / perPage));
    const headers: Record<string, string> = { 'X-Total-Pages': String(pages), 'X-Total-Count': String(matching.length) };
    if (page < pages) {
      const next = new URLSearchParams(q);
      next.set('page', String(page + 1));
      next.set('per_page', String(perPage));
      headers.Link = `<http://${headerValue(req.headers, 'host') ?? '127.0.0.1'}${req.fullPath}?${next.toString()}>; rel="next"`;
    }
    return jsonReply(200, { links: {}, bookings: matching.slice((page - 1) * perPage, page * perPage).map((b) => structuredClone(b)), meta: {} }, headers);
  }
}
