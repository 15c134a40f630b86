import { readFileSync } from 'node:fs';
import { jsonReply, type SandboxResponse } from './http.ts';
import { PmsApiSandbox, RecordBook, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for Smoobu's API, mounted at `/smoobu` (client base URL
 * `http://127.0.0.1:4010/smoobu`): `GET /api/reservations/{id}` with the key in `Api-Key`,
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
