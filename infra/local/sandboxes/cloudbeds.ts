import { jsonReply, type SandboxResponse } from './http.ts';
import { PmsApiSandbox, RecordBook, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for the Cloudbeds PMS API v1.3, mounted at `/cloudbeds` (client base URL
 * `http://127.0.0.1:4010/cloudbeds/api/v1.3`): `GET /api/v1.3/getReservation?reservationID=…`
 * with the key in `x-api-key`, answering `{success, data}` with `guestList` (a map keyed by
 * guest id), `assigned[]` rooms (counts as strings) and local `startDate` / `endDate`. An
 * unknown id answers HTTP 200 `{"success": false, "message": …}`, the shape Cloudbeds uses for
 * refusals; a bad key its documented 401 `access_denied`. Seeded with the reservation
 * examples/cloudbeds-reservation_created.json names. Data controls:
 * `PUT|DELETE /_sandbox/cloudbeds/reservations/{id}`, plus the shared faults.
 */

/** Sandbox-only demo key; it grants nothing anywhere else. */
export const DEFAULT_CLOUDBEDS_KEYS: readonly string[] = ['cbat_demo_cloudbeds_api_key'];

export const CLOUDBEDS_EXAMPLE_RESERVATION: Record<string, unknown> = {
  reservationID: '7061304407766',
  propertyID: '318267',
  status: 'confirmed',
  startDate: '2026-07-10',
  endDate: '2026-07-14',
  guestName: 'Maria Lindqvist',
  guestEmail: 'maria.lindqvist@example.com',
  guestList: {
    '55120913': { guestID: '55120913', guestFirstName: 'Maria', guestLastName: 'Lindqvist', guestEmail: 'maria.lindqvist@example.com', guestPhone: '+46701234567', guestCellPhone: '', guestCountry: 'SE', isMainGuest: true },
  },
  assigned: [{ roomID: '318267-1', roomName: '101', roomTypeID: '9001', roomTypeName: 'Double', startDate: '2026-07-10', endDate: '2026-07-14', adults: '2', children: '1' }],
  unassigned: [],
  dateCreated: '2026-05-02 09:14:25',
  dateModified: '2026-05-02 09:14:27',
};

export class CloudbedsSandbox extends PmsApiSandbox {
  readonly reservations = new RecordBook(() => [CLOUDBEDS_EXAMPLE_RESERVATION], 'reservationID');

  constructor(options: PmsApiSandboxOptions = {}) {
    super('/cloudbeds', { kind: 'key', header: 'x-api-key', keys: DEFAULT_CLOUDBEDS_KEYS }, options);
    this.api.add('GET', '/api/v1.3/getReservation', ({ req }) => {
      const id = req.query.get('reservationID');
      if (!id) return jsonReply(400, { success: false, message: 'Parameter reservationID is required' });
      const reservation = this.reservations.get(id);
      const property = req.query.get('propertyID');
      if (!reservation || (property && reservation.propertyID !== property)) return jsonReply(200, { success: false, message: 'Reservation not found' });
      return jsonReply(200, { success: true, data: reservation });
    });
    // The list as the spec has it: `propertyID` (comma-separated), `checkInFrom`/`checkInTo`,
    // `checkOutFrom`/`checkOutTo`, `pageNumber` from 1, `pageSize` ≤ 100; summary items
    // (no email or phone), `count` (this page) and `total`.
    this.api.add('GET', '/api/v1.3/getReservations', ({ req }) => {
      const q = (name: string) => req.query.get(name);
      const pageNumber = Number(q('pageNumber') ?? '1');
      const pageSize = Number(q('pageSize') ?? '100');
      if (!Number.isInteger(pageNumber) || pageNumber < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) return jsonReply(400, { success: false, message: 'pageNumber must be 1 or more and pageSize from 1 to 100' });
      const properties = (q('propertyID') ?? '').split(',').filter((p) => p !== '');
      const between = (value: unknown, from: string | null, to: string | null) => (!from || String(value) >= from) && (!to || String(value) <= to);
      const matching = this.reservations
        .all()
        .filter((r) => properties.length === 0 || properties.includes(String(r.propertyID)))
        .filter((r) => between(r.startDate, q('checkInFrom'), q('checkInTo')) && between(r.endDate, q('checkOutFrom'), q('checkOutTo')))
        .sort((a, b) => String(a.reservationID).localeCompare(String(b.reservationID)));
      const data = matching.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map((r) => ({
        propertyID: r.propertyID,
        reservationID: r.reservationID,
        dateCreated: r.dateCreated,
        dateModified: r.dateModified,
        status: r.status,
        guestName: r.guestName,
        startDate: r.startDate,
        endDate: r.endDate,
      }));
      return jsonReply(200, { success: true, data, count: data.length, total: matching.length });
    });
    this.reservations.addControls(this.control, '/reservations');
  }

  protected override unauthorized(): SandboxResponse {
    return jsonReply(401, { error: 'access_denied', message: 'The resource owner or authorization server denied the request.' });
  }

  protected resetData(): void {
    this.reservations.reset();
  }
}
