import { readFileSync } from 'node:fs';
import { jsonReply, type SandboxResponse } from './http.ts';
import { PmsApiSandbox, RecordBook, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for Smoobu's API, mounted at `/smoobu` (client base URL
 * `http://127.0.0.1:4010/smoobu`): `GET /api/reservations/{id}` and the list
 * `GET /api/reservations` with the key in `Api-Key`,
 * answering the reservation in the webhook's `data` shape; a bad key gets Smoobu's documented
 * `{"title":"Error occurred","detail":"verification error"}`. Seeded with the reservation of
 * examples/smoobu-newReservation.json. Data controls: `PUT|DELETE /_sandbox/smoobu/reservations/{id}`.
 */

/** Sandbox-only demo key; it grants nothing anywhere else. */
export const DEFAULT_SMOOBU_KEYS: readonly string[] = ['demo-smoobu-api-key'];

const example = JSON.parse(readFileSync(new URL('../../../examples/smoobu-newReservation.json', import.meta.url), 'utf8')) as { data: Record<string, unknown> };

export class SmoobuSandbox extends PmsApiSandbox {
  readonly reservations = new RecordBook(() => [example.data]);

  constructor(options: PmsApiSandboxOptions = {}) {
    super('/smoobu', { kind: 'key', header: 'api-key', keys: DEFAULT_SMOOBU_KEYS }, options);
    // The list as third-party clients use it (the vendor page could not be read): `apartmentId`,
    // `from`/`to` (stays overlapping the range), `showCancellation`, `page` (from 1), `pageSize`
    // ≤ 100; `{page_count, page_size, total_items, page, bookings}`.
    this.api.add('GET', '/api/reservations', ({ req }) => {
      const page = Number(req.query.get('page') ?? '1');
      const pageSize = Number(req.query.get('pageSize') ?? '25');
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) return jsonReply(400, { status: 400, title: 'Bad Request', detail: 'page must be 1 or more and pageSize from 1 to 100' });
      const apartment = req.query.get('apartmentId');
      const from = req.query.get('from');
      const to = req.query.get('to');
      const withCancelled = req.query.get('showCancellation') === 'true';
      const matching = this.reservations
        .all()
        .filter((r) => !apartment || String((r.apartment as { id?: unknown } | undefined)?.id) === apartment)
        .filter((r) => (!from || String(r.departure) >= from) && (!to || String(r.arrival) <= to))
        .filter((r) => withCancelled || r.type !== 'cancellation')
        .sort((a, b) => Number(a.id) - Number(b.id));
      const pageCount = Math.max(1, Math.ceil(matching.length / pageSize));
      return jsonReply(200, { page_count: pageCount, page_size: pageSize, total_items: matching.length, page, bookings: matching.slice((page - 1) * pageSize, page * pageSize) });
    });
    this.api.add('GET', '/api/reservations/:id', ({ params }) => {
      const reservation = this.reservations.get(params.id!);
      return reservation ? jsonReply(200, reservation) : jsonReply(404, { status: 404, title: 'Not Found', detail: 'reservation not found' });
    });
    this.reservations.addControls(this.control, '/reservations', Number);
  }

  protected override unauthorized(): SandboxResponse {
    return jsonReply(401, { title: 'Error occurred', detail: 'verification error' });
  }

  protected resetData(): void {
    this.reservations.reset();
  }
}
