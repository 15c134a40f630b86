import { readFileSync } from 'node:fs';
import { jsonReply, type SandboxResponse } from './http.ts';
import { PmsApiSandbox, RecordBook, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for the Lodgify Public API v2, mounted at `/lodgify` (client base URL
 * `http://127.0.0.1:4010/lodgify`): `GET /v2/reservations/bookings/{id}` with the key in
 * `X-ApiKey`, answering the booking the way Lodgify's OpenAPI describes it (`arrival`,
 * `departure`, `check_in{time}`, `guest{name,email,phone,country_code}`,
 * `rooms[].guest_breakdown`, `updated_at`, `is_deleted`) and errors as
 * `{message, code, correlation_id, event_id}`. Seeded with the booking of
 * examples/lodgify-booking_new_status_booked.json. Data controls:
 * `PUT|DELETE /_sandbox/lodgify/bookings/{id}`.
 */

/** Sandbox-only demo key; it grants nothing anywhere else. */
export const DEFAULT_LODGIFY_KEYS: readonly string[] = ['demo-lodgify-api-key'];

type Json = Record<string, unknown>;
const example = JSON.parse(readFileSync(new URL('../../../examples/lodgify-booking_new_status_booked.json', import.meta.url), 'utf8')) as { booking: Json; guest: Json };

/** The example booking as `GET /v2/reservations/bookings/{id}` answers it. */
export const LODGIFY_EXAMPLE_BOOKING: Json = {
  id: example.booking.id,
  property_id: example.booking.property_id,
  status: example.booking.status,
  arrival: String(example.booking.date_arrival).slice(0, 10),
  departure: String(example.booking.date_departure).slice(0, 10),
  check_in: { time: '15:00:00', initiator: 'Property' },
  check_out: { time: '11:00:00', initiator: 'Property' },
  guest: { name: example.guest.name, email: example.guest.email, phone: example.guest.phone_number, country_code: example.guest.country_code },
  language: example.booking.language,
  rooms: [{ room_type_id: 390011, guest_breakdown: { adults: 2, children: 1, infants: 0, pets: 0 }, people: 3 }],
  source: example.booking.source,
  source_text: example.booking.source_text,
  created_at: example.booking.date_created,
  updated_at: '2026-05-02T09:14:30+00:00',
  canceled_at: null,
  is_deleted: false,
};

export class LodgifySandbox extends PmsApiSandbox {
  readonly bookings = new RecordBook(() => [LODGIFY_EXAMPLE_BOOKING]);

  constructor(options: PmsApiSandboxOptions = {}) {
    super('/lodgify', { kind: 'key', header: 'x-apikey', keys: DEFAULT_LODGIFY_KEYS }, options);
    // The list as Lodgify documents it: no property filter, `stayFilter`, `page` (from 1) and `size`.
    this.api.add('GET', '/v2/reservations/bookings', ({ req }) => {
      const stayFilter = req.query.get('stayFilter') ?? 'All';
      const page = Number(req.query.get('page') ?? '1');
      const size = Number(req.query.get('size') ?? '50');
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 50) return lodgifyError(400, 'BadRequest', 'page must be 1 or more and size from 1 to 50');
      const today = new Date(this.now()).toISOString().slice(0, 10);
      const matching = this.bookings
        .all()
        .filter((b) => b.is_deleted !== true)
        .filter((b) => {
          const arrival = String(b.arrival).slice(0, 10);
          const departure = String(b.departure).slice(0, 10);
          if (stayFilter === 'Upcoming') return arrival > today;
          if (stayFilter === 'Current') return arrival <= today && departure >= today;
          if (stayFilter === 'Historic') return departure < today;
          return true;
        })
        .sort((a, b) => Number(a.id) - Number(b.id));
      const items = matching.slice((page - 1) * size, page * size);
      return jsonReply(200, { count: req.query.get('includeCount') === 'true' ? matching.length : null, items });
    });
    this.api.add('GET', '/v2/reservations/bookings/:id', ({ params }) => {
      const booking = this.bookings.get(params.id!);
      return booking ? jsonReply(200, booking) : lodgifyError(404, 'NotFound', 'Booking not found');
    });
    this.bookings.addControls(this.control, '/bookings', Number);
  }

  protected override unauthorized(): SandboxResponse {
    return lodgifyError(401, 'NotAuthorized', 'Authorization has been denied for this request.');
  }

  protected resetData(): void {
    this.bookings.reset();
  }
}

function lodgifyError(status: number, code: string, message: string): SandboxResponse {
  return jsonReply(status, { message, code, correlation_id: 'sandbox', event_id: 'sandbox' });
}
