import { readFileSync } from 'node:fs';
import { jsonReply, parseJsonWithSchema } from './http.ts';
import { JsonObject, PmsApiSandbox, type PmsApiClient, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for Guesty's Open API, mounted at `/guesty` (client base URL
 * `http://127.0.0.1:4010/guesty`): `POST /oauth2/token` (client_credentials, client in the
 * form body), `GET /v1/reservations/{id}`, `GET /v1/guests/{id}`. Seeded with the reservation
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

export class GuestySandbox extends PmsApiSandbox {
  private reservations = new Map<string, Record<string, unknown>>();
  private guests = new Map<string, Record<string, unknown>>();

  constructor(options: PmsApiSandboxOptions = {}) {
    super('/guesty', { kind: 'oauth', tokenPath: '/oauth2/token', clients: DEFAULT_GUESTY_CLIENTS }, options);
    this.resetData();
    this.api
      .add('GET', '/v1/reservations/:id', ({ params }) => this.found(this.reservations.get(params.id!), 'reservation'))
      .add('GET', '/v1/guests/:id', ({ params }) => this.found(this.guests.get(params.id!), 'guest'));
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

  private found(record: Record<string, unknown> | undefined, what: string) {
    // Guesty's error body shape: {"error":{"code","message"}}.
    return record ? jsonReply(200, structuredClone(record)) : jsonReply(404, { error: { code: 'NOT_FOUND', message: `${what} not found` } });
  }
}
