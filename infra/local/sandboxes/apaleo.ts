import { jsonReply, type SandboxResponse } from './http.ts';
import { PmsApiSandbox, RecordBook, type PmsApiClient, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for apaleo, mounted at `/apaleo` (client base URL
 * `http://127.0.0.1:4010/apaleo`, token URL `http://127.0.0.1:4010/apaleo/connect/token`):
 * `POST /connect/token` (client_credentials, the client in HTTP Basic as apaleo's identity
 * server takes it), `GET /booking/v1/reservations/{id}` with the bearer token, answering the
 * reservation with `property`, `unit`, `primaryGuest`, `adults`, `childrenAges`, `arrival` /
 * `departure` with the property's offset, `status` and `modified`; errors as
 * `{"messages": [...]}`. Seeded with the reservation examples/apaleo-reservation_created.json
 * names. Data controls: `PUT|DELETE /_sandbox/apaleo/reservations/{id}`, plus the shared faults
 * (a 429 with `Retry-After` included).
 */

/** Sandbox-only demo client; it grants nothing anywhere else. */
export const DEFAULT_APALEO_CLIENTS: readonly PmsApiClient[] = [{ clientId: 'demo-apaleo-client', clientSecret: 'demo-apaleo-secret' }];

export const APALEO_EXAMPLE_RESERVATION: Record<string, unknown> = {
  id: 'XPGMSXGF-1',
  bookingId: 'XPGMSXGF',
  property: { id: 'HFTF-AADS', code: 'AADS', name: 'Demo hotel' },
  unit: { id: 'HFTF-AADS-101', name: '101', unitGroupId: 'HFTF-AADS-DBL' },
  status: 'Confirmed',
  arrival: '2026-07-10T15:00:00+02:00',
  departure: '2026-07-14T11:00:00+02:00',
  adults: 2,
  childrenAges: [7],
  primaryGuest: { firstName: 'Maria', lastName: 'Lindqvist', email: 'maria.lindqvist@example.com', phone: '+46701234567', preferredLanguage: 'sv', nationalityCountryCode: 'SE' },
  channelCode: 'Direct',
  created: '2026-05-02T09:14:25+02:00',
  modified: '2026-05-02T09:14:27+02:00',
};

export class ApaleoSandbox extends PmsApiSandbox {
  readonly reservations = new RecordBook(() => [APALEO_EXAMPLE_RESERVATION]);

  constructor(options: PmsApiSandboxOptions = {}) {
    super('/apaleo', { kind: 'oauth', tokenPath: '/connect/token', clients: DEFAULT_APALEO_CLIENTS }, options);
    // The list as apaleo documents it: `propertyIds` (comma-separated), `dateFilter` (`Stay`:
    // overlapping [from, to)), `pageNumber` from 1, `pageSize` ≤ 200; an empty page is 204.
    this.api.add('GET', '/booking/v1/reservations', ({ req }) => {
      const pageNumber = Number(req.query.get('pageNumber') ?? '1');
      const pageSize = Number(req.query.get('pageSize') ?? '20');
      if (!Number.isInteger(pageNumber) || pageNumber < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 200) return jsonReply(400, { messages: ['pageNumber must be 1 or more and pageSize from 1 to 200'] });
      const properties = (req.query.get('propertyIds') ?? '').split(',').filter((p) => p !== '');
      const from = req.query.get('from');
      const to = req.query.get('to');
      const dateFilter = req.query.get('dateFilter');
      if (dateFilter && !from && !to) return jsonReply(400, { messages: ['from or to is required with dateFilter'] });
      const at = (value: unknown) => Date.parse(String(value));
      const matching = this.reservations
        .all()
        .filter((r) => properties.length === 0 || properties.includes(String((r.property as { id?: unknown } | undefined)?.id)))
        .filter((r) => dateFilter !== 'Stay' || ((!to || at(r.arrival) < Date.parse(to)) && (!from || at(r.departure) >= Date.parse(from))))
        .sort((a, b) => at(a.arrival) - at(b.arrival));
      const items = matching.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
      return items.length === 0 ? { status: 204 } : jsonReply(200, { reservations: items, count: matching.length });
    });
    this.api.add('GET', '/booking/v1/reservations/:id', ({ params }) => {
      const reservation = this.reservations.get(params.id!);
      return reservation ? jsonReply(200, reservation) : jsonReply(404, { messages: [`Reservation with id ${params.id} not found`] });
    });
    this.reservations.addControls(this.control, '/reservations');
  }

  protected override unauthorized(): SandboxResponse {
    return jsonReply(401, { messages: ['Unauthorized'] });
  }

  protected resetData(): void {
    this.reservations.reset();
  }
}
