import type { LocalStack } from '../../infra/local/stack.ts';
import { HOSPITABLE_PROPERTY, LODGIFY_PROPERTY, SMOOBU_APARTMENT, sendHospitable, sendLodgify, sendSmoobu, ulidAt } from './pms.ts';
import type { WebhookReply } from './stack.ts';

/**
 * One booking as each of Lodgify, Hospitable and Smoobu holds it, and the webhook each sends
 * about it, so one table of end-to-end tests drives all three. `publish` puts the booking in
 * the PMS's API sandbox (Lodgify and Smoobu re-read it; Hospitable's reader serves partial
 * events); `webhook` is the delivery.
 */

export interface Booking {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  arrival: string;
  departure: string;
  adults: number;
  children: number;
  state: 'booked' | 'cancelled' | 'blocked';
}

export type Event = 'created' | 'changed' | 'cancelled';

export interface RentalPms {
  name: 'lodgify' | 'hospitable' | 'smoobu';
  connectionId: string;
  /** The Minut home its demo property syncs to. */
  minutHome: string;
  /** The reservation id guest-sync keys the booking by. */
  reservationId(booking: Booking): string;
  /** Whether the PMS has owner blocks as bookings (Hospitable keeps them in its calendar). */
  hasOwnerBlocks: boolean;
  publish(stack: LocalStack, booking: Booking): void;
  /** The webhook body (a JSON value) for an event about the booking, as sent at `at` (epoch ms). */
  webhook(booking: Booking, event: Event, at: number): unknown;
  send(stack: LocalStack, body: string): Promise<WebhookReply>;
}

const hospitableId = (id: number) => `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`;

export const RENTAL_PMSS: RentalPms[] = [
  {
    name: 'lodgify',
    connectionId: 'lodgify-demo',
    minutHome: 'home_demo_lodgify',
    reservationId: (b) => String(b.id),
    hasOwnerBlocks: true,
    publish(stack, b) {
      stack.sandbox.lodgify.bookings.put({
        id: b.id,
        property_id: LODGIFY_PROPERTY,
        status: b.state === 'cancelled' ? 'Declined' : 'Booked',
        arrival: b.arrival,
        departure: b.departure,
        check_in: { time: '15:00:00', initiator: 'Property' },
        check_out: { time: '11:00:00', initiator: 'Property' },
        guest: { name: `${b.firstName} ${b.lastName}`, email: b.email, phone: b.phone, country_code: 'SE' },
        language: 'sv',
        rooms: [{ room_type_id: 390011, guest_breakdown: { adults: b.adults, children: b.children, infants: 0, pets: 0 }, people: b.adults + b.children }],
        updated_at: new Date().toISOString(),
        canceled_at: null,
        is_deleted: false,
        is_unavailable: b.state === 'blocked',
      });
    },
    webhook(b, event) {
      const action = event === 'created' ? 'booking_new_status_booked' : event === 'cancelled' ? 'booking_status_change_declined' : 'booking_change';
      return {
        action,
        booking: {
          type: 'Booking',
          id: b.id,
          date_arrival: `${b.arrival}T00:00:00`,
          date_departure: `${b.departure}T00:00:00`,
          property_id: LODGIFY_PROPERTY,
          status: b.state === 'cancelled' ? 'Declined' : 'Booked',
          room_types: [{ room_type_id: 390011, people: b.adults + b.children }],
          language: 'sv',
        },
        guest: { name: `${b.firstName} ${b.lastName}`, email: b.email, phone_number: b.phone, country_code: 'SE' },
      };
    },
    send: (stack, body) => sendLodgify(stack, body),
  },
  {
    name: 'hospitable',
    connectionId: 'hospitable-demo',
    minutHome: 'home_demo_hospitable',
    reservationId: (b) => hospitableId(b.id),
    hasOwnerBlocks: false,
    publish(stack, b) {
      stack.sandbox.hospitable.reservations.put(hospitableReservation(b));
    },
    webhook(b, event, at) {
      return { id: ulidAt(at), action: event === 'created' ? 'reservation.created' : 'reservation.changed', data: hospitableReservation(b), created: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'), version: 'v2' };
    },
    send: (stack, body) => sendHospitable(stack, body),
  },
  {
    name: 'smoobu',
    connectionId: 'smoobu-demo',
    minutHome: 'home_demo_smoobu',
    reservationId: (b) => String(b.id),
    hasOwnerBlocks: true,
    publish(stack, b) {
      stack.sandbox.smoobu.reservations.put(smoobuReservation(b));
    },
    webhook(b, event) {
      return { action: event === 'created' ? 'newReservation' : event === 'cancelled' ? 'cancelReservation' : 'updateReservation', user: 321456, data: smoobuReservation(b) };
    },
    send: (stack, body) => sendSmoobu(stack, body),
  },
];

/** Hospitable's `ReservationFull` with the property's offset (Stockholm: +02:00 in summer). */
function hospitableReservation(b: Booking): Record<string, unknown> {
  const offset = '+02:00';
  return {
    id: hospitableId(b.id),
    platform: 'airbnb',
    platform_id: `HM${b.id}`,
    arrival_date: `${b.arrival}T00:00:00${offset}`,
    departure_date: `${b.departure}T00:00:00${offset}`,
    check_in: `${b.arrival}T15:00:00${offset}`,
    check_out: `${b.departure}T11:00:00${offset}`,
    reservation_status: { current: { category: b.state === 'cancelled' ? 'cancelled' : 'accepted', sub_category: null }, history: [] },
    guests: { total: b.adults + b.children, adult_count: b.adults, child_count: b.children, infant_count: 0, pet_count: 0 },
    guest: { id: String(b.id), first_name: b.firstName, last_name: b.lastName, email: b.email, phone_numbers: [b.phone], location: 'Gothenburg, Sweden' },
    properties: [{ id: HOSPITABLE_PROPERTY, name: 'Seaside Loft 2BR', timezone: '+0200' }],
  };
}

function smoobuReservation(b: Booking): Record<string, unknown> {
  return {
    id: b.id,
    'reference-id': `SM${b.id}`,
    type: b.state === 'cancelled' ? 'cancellation' : 'reservation',
    arrival: b.arrival,
    departure: b.departure,
    apartment: { id: SMOOBU_APARTMENT, name: 'Seaside Loft 2BR' },
    channel: { id: 465614, name: 'Airbnb' },
    'guest-name': `${b.firstName} ${b.lastName}`,
    firstname: b.firstName,
    lastname: b.lastName,
    email: b.email,
    phone: b.phone,
    adults: b.adults,
    children: b.children,
    'check-in': '15:00',
    'check-out': '11:00',
    language: 'sv',
    'is-blocked-booking': b.state === 'blocked',
  };
}
