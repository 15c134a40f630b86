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
    // The list as the OpenAPI (`get-reservations`) has it: `properties[]` required; `start_date`/
    // `end_date` on check-in or, with `date_query=checkout`, check-out (inclusive here); `page`,
    // `per_page` ≤ 100; `{data, links, meta}`. Without dates: check-ins in the next two weeks.
    this.api.add('GET', '/v2/reservations', ({ req }) => {
      const properties = new Set([...req.query.getAll('properties[]'), ...req.query.getAll('properties')]);
      if (properties.size === 0) return jsonReply(422, { status_code: 422, reason_phrase: 'The properties field is required.' });
      const page = Number(req.query.get('page') ?? '1');
      const perPage = Number(req.query.get('per_page') ?? '10');
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1 || perPage > 100) return jsonReply(422, { status_code: 422, reason_phrase: 'page must be 1 or more and per_page from 1 to 100' });
      const today = new Date(this.now()).toISOString().slice(0, 10);
      const noDates = !req.query.has('start_date') && !req.query.has('end_date') && !req.query.has('date_query');
      const start = noDates ? today : req.query.get('start_date');
      const end = noDates ? new Date(this.now() + 14 * 86_400_000).toISOString().slice(0, 10) : req.query.get('end_date');
      const field = req.query.get('date_query') === 'checkout' ? 'departure_date' : 'arrival_date';
      const include = new Set([...req.query.getAll('include'), ...req.query.getAll('include[]')].flatMap((value) => value.split(',')).map((v) => v.trim()));
      const matching = this.reservations
        .all()
        .filter((r) => (r.properties as { id: string }[] | undefined)?.some((p) => properties.has(p.id)))
        .filter((r) => {
          const day = String(r[field]).slice(0, 10);
          return (!start || day >= start) && (!end || day <= end);
        })
        .sort((a, b) => String(a.arrival_date).localeCompare(String(b.arrival_date)));
      const lastPage = Math.max(1, Math.ceil(matching.length / perPage));
      const data = matching.slice((page - 1) * perPage, page * perPage).map((r) => {
        for (const name of INCLUDABLE) if (!include.has(name)) delete r[name];
        return r;
      });
      return jsonReply(200, { data, links: { next: page < lastPage ? `?page=${page + 1}` : null }, meta: { current_page: page, last_page: lastPage, per_page: perPage, total: matching.length } });
    });
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
