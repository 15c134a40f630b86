import { readFileSync } from 'node:fs';
import { jsonReply, type SandboxResponse } from './http.ts';
import { PmsApiSandbox, RecordBook, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for the Hospitable Public API v2, mounted at `/hospitable` (client base URL
 * `http://127.0.0.1:4010/hospitable/v2`): `GET /v2/reservations/{uuid}` with a personal access
 * token as `Authorization: Bearer`, answering `{"data": ReservationFull}` with `guest` and
 * `properties` only when asked for in `include` (comma-separated or `include[]=`), as the
 * OpenAPI says; errors as `{status_code, reason_phrase}`. Seeded with the reservation of
 * examples/hospitable-reservation.created.json. Data controls:
 * `PUT|DELETE /_sandbox/hospitable/reservations/{id}`.
 */

/** Sandbox-only demo token; it grants nothing anywhere else. */
export const DEFAULT_HOSPITABLE_TOKENS: readonly string[] = ['demo-hospitable-personal-access-token'];

const example = JSON.parse(readFileSync(new URL('../../../examples/hospitable-reservation.created.json', import.meta.url), 'utf8')) as { data: Record<string, unknown> };
const INCLUDABLE = ['guest', 'properties', 'listings', 'user', 'financials', 'review'];

export class HospitableSandbox extends PmsApiSandbox {
  readonly reservations = new RecordBook(() => [example.data]);

  constructor(options: PmsApiSandboxOptions = {}) {
    super('/hospitable', { kind: 'key', header: 'authorization', bearer: true, keys: DEFAULT_HOSPITABLE_TOKENS }, options);
    this.api.add('GET', '/v2/reservations/:id', ({ req, params }) => {
      const reservation = this.reservations.get(params.id!);
      if (!reservation) return jsonReply(404, { status_code: 404, reason_phrase: 'Not Found' });
      const include = new Set([...req.query.getAll('include'), ...req.query.getAll('include[]')].flatMap((value) => value.split(',')).map((v) => v.trim()));
      for (const name of INCLUDABLE) if (!include.has(name)) delete reservation[name];
      return jsonReply(200, { data: reservation });
    });
    this.reservations.addControls(this.control, '/reservations');
  }

  protected override unauthorized(): SandboxResponse {
    return jsonReply(401, { status_code: 401, reason_phrase: 'Unauthenticated' });
  }

  protected resetData(): void {
    this.reservations.reset();
  }
}
