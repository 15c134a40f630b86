import { randomUUID } from 'node:crypto';
import type { LocalStack } from '../../infra/local/stack.ts';
import { MEWS_ADULT_CATEGORY, MEWS_CHILD_CATEGORY, MEWS_DEMO_ENTERPRISE } from '../../infra/local/sandboxes/mews.ts';
import { postWebhook, type WebhookReply } from './stack.ts';

/**
 * One hotel stay as apaleo, Mews and Cloudbeds each hold it, and the thin webhook each sends
 * about it, so one table of end-to-end tests drives all three. `publish` puts the reservation
 * in the PMS's API sandbox (all three are read back); `webhook` is the delivery.
 */

export interface Stay {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  /** Local dates at the property. */
  arrival: string;
  departure: string;
  adults: number;
  children: number;
  /** Which of the property's two configured units (rooms). */
  unit: 0 | 1;
  state: 'booked' | 'in_house' | 'checked_out' | 'cancelled' | 'no_show';
}

export interface HotelPms {
  name: 'apaleo' | 'mews' | 'cloudbeds';
  connectionId: string;
  minutHome: string;
  hotelSlug: string;
  kasifyProperty: string;
  /** RecepAI room number of each unit (the property's `rooms` map). */
  rooms: [string, string];
  /** The local check-in and check-out as UTC instants Minut gets (from the PMS's times or the property's defaults). */
  instants(stay: Stay): { checkin: string; checkout: string };
  reservationId(stay: Stay): string;
  publish(stack: LocalStack, stay: Stay): void;
  webhook(stay: Stay, at: number): unknown;
  /** Sends with the connection's URL token (or another token). */
  send(stack: LocalStack, body: string, token?: string): Promise<WebhookReply>;
}

export const HOTEL_TOKENS = {
  apaleo: 'demo-apaleo-url-token-Hq3Zp8Wm2Lx7Rt5V',
  mews: 'demo-mews-url-token-Bk6Tn1Ys9Qc4Jd8F',
  cloudbeds: 'demo-cloudbeds-url-token-Wr7Mf2Kx5Pz9Gh3N',
} as const;

const SEASIDE_KASIFY = '6f1d2c1e-5b7a-4c1e-9a51-2f6f3b8c9d01';
const CITY_KASIFY = '0b9e7a52-3c4d-4e8f-8a6b-1d2c3e4f5a60';
const APALEO_UNITS = ['HFTF-AADS-101', 'HFTF-AADS-102'] as const;
const MEWS_UNITS = ['5ee074b1-6c86-48e8-915f-c7aa4702086f', '0e1f3a52-7d4b-4c41-9b0e-2a1b6c7d8e9f'] as const;
const CLOUDBEDS_UNITS = ['318267-1', '318267-2'] as const;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const send = (connectionId: string, token: string) => (stack: LocalStack, body: string, other?: string) => postWebhook(stack, `${connectionId}/${other ?? token}`, body, {});

const mewsId = (id: number) => `00000000-0000-4000-9000-${String(id).padStart(12, '0')}`;
const mewsCustomer = (id: number) => `00000000-0000-4000-a000-${String(id).padStart(12, '0')}`;

export const HOTEL_PMSS: HotelPms[] = [
  {
    name: 'apaleo',
    connectionId: 'apaleo-demo',
    minutHome: 'home_demo_apaleo',
    hotelSlug: 'city-hotel',
    kasifyProperty: CITY_KASIFY,
    rooms: ['3', '4'],
    // Berlin in summer is UTC+2; apaleo sends its own times (15:00 and 11:00 here).
    instants: (s) => ({ checkin: `${s.arrival}T13:00:00Z`, checkout: `${s.departure}T09:00:00Z` }),
    reservationId: (s) => `APL${s.id}-1`,
    publish(stack, s) {
      const status = { booked: 'Confirmed', in_house: 'InHouse', checked_out: 'CheckedOut', cancelled: 'Canceled', no_show: 'NoShow' }[s.state];
      stack.sandbox.apaleo.reservations.put({
        id: `APL${s.id}-1`,
        bookingId: `APL${s.id}`,
        property: { id: 'HFTF-AADS' },
        unit: { id: APALEO_UNITS[s.unit], name: APALEO_UNITS[s.unit].slice(-3) },
        status,
        arrival: `${s.arrival}T15:00:00+02:00`,
        departure: `${s.departure}T11:00:00+02:00`,
        adults: s.adults,
        childrenAges: Array.from({ length: s.children }, () => 7),
        primaryGuest: { firstName: s.firstName, lastName: s.lastName, email: s.email, phone: s.phone, preferredLanguage: 'de', nationalityCountryCode: 'DE' },
        modified: new Date().toISOString(),
      });
    },
    webhook: (s, at) => ({ topic: 'Reservation', type: 'changed', id: randomUUID(), accountId: 'HFTF', propertyId: 'HFTF-AADS', timestamp: at, data: { entityId: `APL${s.id}-1` } }),
    send: send('apaleo-demo', HOTEL_TOKENS.apaleo),
  },
  {
    name: 'mews',
    connectionId: 'mews-demo',
    minutHome: 'home_demo_mews',
    hotelSlug: 'seaside-hotel',
    kasifyProperty: SEASIDE_KASIFY,
    rooms: ['101', '102'],
    // Mews sends UTC instants; Stockholm in summer is UTC+2.
    instants: (s) => ({ checkin: `${s.arrival}T13:00:00Z`, checkout: `${s.departure}T09:00:00Z` }),
    reservationId: (s) => mewsId(s.id),
    publish(stack, s) {
      const state = { booked: 'Confirmed', in_house: 'Started', checked_out: 'Processed', cancelled: 'Canceled', no_show: 'Canceled' }[s.state];
      stack.sandbox.mews.reservations.put({
        Id: mewsId(s.id),
        EnterpriseId: MEWS_DEMO_ENTERPRISE,
        State: state,
        ScheduledStartUtc: `${s.arrival}T13:00:00Z`,
        ScheduledEndUtc: `${s.departure}T09:00:00Z`,
        AssignedResourceId: MEWS_UNITS[s.unit],
        AccountId: mewsCustomer(s.id),
        AccountType: 'Customer',
        PersonCounts: [
          { AgeCategoryId: MEWS_ADULT_CATEGORY, Count: s.adults },
          { AgeCategoryId: MEWS_CHILD_CATEGORY, Count: s.children },
        ],
        UpdatedUtc: new Date().toISOString(),
        CancellationReason: s.state === 'no_show' ? 'NoShow' : s.state === 'cancelled' ? 'ConfirmationMissed' : null,
      });
      stack.sandbox.mews.customers.put({ Id: mewsCustomer(s.id), FirstName: s.firstName, LastName: s.lastName, Email: s.email, HasOtaEmail: false, Phone: s.phone, NationalityCode: 'SE', PreferredLanguageCode: 'sv-SE' });
    },
    webhook: (s) => ({ EnterpriseId: MEWS_DEMO_ENTERPRISE, IntegrationId: 'c8bee838-7fb1-4f4e-8fac-ac87008b2f90', Events: [{ Discriminator: 'ServiceOrderUpdated', Value: { Id: mewsId(s.id) } }] }),
    send: send('mews-demo', HOTEL_TOKENS.mews),
  },
  {
    name: 'cloudbeds',
    connectionId: 'cloudbeds-demo',
    minutHome: 'home_demo_cloudbeds',
    hotelSlug: 'seaside-hotel',
    kasifyProperty: SEASIDE_KASIFY,
    rooms: ['103', '203'],
    // Cloudbeds sends dates only: the property's 15:00 and 11:00 in New York (UTC-4 in summer).
    instants: (s) => ({ checkin: `${s.arrival}T19:00:00Z`, checkout: `${s.departure}T15:00:00Z` }),
    reservationId: (s) => `CB${s.id}`,
    publish(stack, s) {
      const status = { booked: 'confirmed', in_house: 'checked_in', checked_out: 'checked_out', cancelled: 'canceled', no_show: 'no_show' }[s.state];
      stack.sandbox.cloudbeds.reservations.put({
        reservationID: `CB${s.id}`,
        propertyID: '318267',
        status,
        startDate: s.arrival,
        endDate: s.departure,
        guestName: `${s.firstName} ${s.lastName}`,
        guestEmail: s.email,
        guestList: { [`G${s.id}`]: { guestFirstName: s.firstName, guestLastName: s.lastName, guestEmail: s.email, guestPhone: s.phone, guestCellPhone: '', guestCountry: 'US', isMainGuest: true } },
        assigned: [{ roomID: CLOUDBEDS_UNITS[s.unit], roomName: s.unit === 0 ? '101' : '102', startDate: s.arrival, endDate: s.departure, adults: String(s.adults), children: String(s.children) }],
        dateModified: iso(Date.now()).replace('T', ' ').replace('Z', ''),
      });
    },
    // dates_changed spells its keys `reservationId` / `propertyId`: the same reader takes both.
    webhook: (s, at) => (s.id % 2 === 0
      ? { reservationId: `CB${s.id}`, propertyId: 318267, propertyId_str: '318267', startDate: s.arrival, endDate: s.departure, version: '1.0', event: 'reservation/dates_changed', timestamp: at / 1000 }
      : { reservationID: `CB${s.id}`, propertyID: 318267, propertyID_str: '318267', startDate: s.arrival, endDate: s.departure, version: '1.0', event: 'reservation/status_changed', timestamp: at / 1000 }),
    send: send('cloudbeds-demo', HOTEL_TOKENS.cloudbeds),
  },
];
