import { readFileSync } from 'node:fs';
import { jsonReply, type SandboxResponse } from './http.ts';
import { PmsApiSandbox, RecordBook, type PmsApiClient, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for Hostaway's API, mounted at `/hostaway` (client base URL
 * `http://127.0.0.1:4010/hostaway/v1`): `POST /v1/accessTokens` (client_credentials in the form
 * body: the account id and API key), `GET /v1/reservations/{id}` and the list
 * `GET /v1/reservations` (`listingId`, `arrivalStartDate`/`arrivalEndDate`,
 * `departureStartDate`/`departureEndDate`, `limit`, the `afterId` cursor; newest-updated first,
 * as the docs say), answering `{status: "success", result, count, limit}`; an unknown token gets
 * Hostaway's 403. Seeded with the reservation of examples/hostaway-reservation.created.json.
 * Data controls: `PUT|DELETE /_sandbox/hostaway/reservations/{id}`.
 */

/** Sandbox-only demo client (account id and API key); it grants nothing anywhere else. */
export const DEFAULT_HOSTAWAY_CLIENTS: readonly PmsApiClient[] = [{ clientId: '91234', clientSecret: 'demo-hostaway-api-key' }];

const example = JSON.parse(readFileSync(new URL('../../../examples/hostaway-reservation.created.json', import.meta.url), 'utf8')) as { data: Record<string, unknown> };

export class HostawaySandbox extends PmsApiSandbox {
  readonly reservations = new RecordBook(() => [example.data]);

  constructor(options: PmsApiSandboxOptions = {}) {
    super('/hostaway', { kind: 'oauth', tokenPath: '/v1/accessTokens', clients: DEFAULT_HOSTAWAY_CLIENTS }, options);
    this.api.add('GET', '/v1/reservations', ({ req }) => {
      const limit = Number(req.query.get('limit') ?? '100');
      if (!Number.isInteger(limit) || limit < 1) return jsonReply(400, { status: 'fail', result: 'limit must be a positive integer' });
      const q = (name: string) => req.query.get(name);
      const afterId = q('afterId');
      // Newest-updated first, then id descending: the docs' default order, which `afterId` follows.
      const ordered = this.reservations
        .all()
        .filter((r) => !q('listingId') || String(r.listingMapId) === q('listingId'))
        .filter((r) => (!q('arrivalStartDate') || String(r.arrivalDate) >= q('arrivalStartDate')!) && (!q('arrivalEndDate') || String(r.arrivalDate) <= q('arrivalEndDate')!))
        .filter((r) => (!q('departureStartDate') || String(r.departureDate) >= q('departureStartDate')!) && (!q('departureEndDate') || String(r.departureDate) <= q('departureEndDate')!))
        .sort((a, b) => String(b.updatedOn).localeCompare(String(a.updatedOn)) || Number(b.id) - Number(a.id));
      const start = afterId ? ordered.findIndex((r) => String(r.id) === afterId) + 1 : 0;
      const result = ordered.slice(start, start + limit);
      return jsonReply(200, { status: 'success', result, count: ordered.length, limit, offset: null });
    });
    this.api.add('GET', '/v1/reservations/:id', ({ params }) => {
      const reservation = this.reservations.get(params.id!);
      return reservation ? jsonReply(200, { status: 'success', result: reservation }) : jsonReply(404, { status: 'fail', result: 'Reservation not found' });
    });
    this.reservations.addControls(this.control, '/reservations', Number);
  }

  /** Hostaway answers 403 to a missing, invalid or expired token. */
  protected override invalidToken(): SandboxResponse {
    return jsonReply(403, { status: 'fail', message: 'access denied 403: the token is no longer valid, refresh it' });
  }

  protected resetData(): void {
    this.reservations.reset();
  }
}
