import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pmsTypes } from '../../functions/core/config.ts';
import { signHospitable } from '../../functions/sources/hospitable.ts';
import { signLodgify } from '../../functions/sources/lodgify.ts';
import { signSmily } from '../../functions/sources/smily.ts';
import { signStandardWebhook } from '../../infra/local/standard-webhooks-signer.ts';
import { projectRoot } from '../../infra/bundling.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { logger } from '../../functions/core/powertools.ts';
import { HOSTAWAY_AUTH } from '../support/hostaway.ts';
import { GUESTY_EXAMPLE_GUEST } from '../../infra/local/sandboxes/guesty.ts';
import { APALEO_EXAMPLE_RESERVATION } from '../../infra/local/sandboxes/apaleo.ts';
import { CLOUDBEDS_EXAMPLE_RESERVATION } from '../../infra/local/sandboxes/cloudbeds.ts';
import { LODGIFY_EXAMPLE_BOOKING } from '../../infra/local/sandboxes/lodgify.ts';
import { MEWS_EXAMPLE_CUSTOMER } from '../../infra/local/sandboxes/mews.ts';
import { HOTEL_TOKENS } from '../support/hotel-pms.ts';
import { guestyHeaders, HOSPITABLE_SECRET, LODGIFY_SECRETS, SMOOBU_TOKEN } from '../support/pms.ts';
import { captureOutput } from '../support/capture-output.ts';
import { startTestStack } from '../support/stack.ts';

// Everything the handlers can say: DEBUG logs and the EMF metric lines. Hoisted above the
// imports, so the Powertools singletons are created with these settings.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

/**
 * Guest data never reaches the logs. Every PMS fixture the project can ingest goes through the
 * real path (HTTP front -> ingest -> queue -> sync -> Minut sandbox) with logs at DEBUG and EMF
 * metrics on, including the paths most likely to leak: rejected deliveries, unparseable fields,
 * dropped optional fields, unrouted properties, target 5xx retries and permanent 4xx failures.
 * Then ALL output of this process is searched for the guest names, emails and phone numbers
 * the fixtures contain.
 *
 * A source added later joins by one entry in PII_FIXTURES (its fixture, its connection, how to
 * authenticate a delivery, and optionally variants); a test below fails for any PMS type of the
 * config schema without an entry.
 */

/** Where fixtures are looked for, in order: the repository's own, then the shared reference set. */
const FIXTURE_DIRS = [
  ...(process.env.GUEST_SYNC_PMS_FIXTURES ? [process.env.GUEST_SYNC_PMS_FIXTURES] : []),
  join(projectRoot, 'test', 'fixtures', 'pms'),
  join(projectRoot, 'examples'),
  join(projectRoot, '..', 'shared', 'reference', 'fixtures', 'pms'),
  '/work/shared/reference/fixtures/pms',
];

function fixturePath(file: string): string {
  const found = FIXTURE_DIRS.map((dir) => join(dir, file)).find((path) => existsSync(path));
  if (!found) throw new Error(`fixture ${file} not found in ${FIXTURE_DIRS.join(', ')}`);
  return found;
}

/** Sandbox-only demo secrets (config/secrets.example.json). */
const GENERIC_DEMO_SECRET = 'whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5LTMyYnl0ZXM=';
const SMILY_DEMO_SECRET = 'demo-smily-application-secret';

interface PiiFixture {
  pms: string;
  file: string;
  connectionId: string;
  /** The path after /webhooks/ when it is more than the connection id (a URL token). */
  path?: string;
  /** Headers that authenticate `body` for the connection's demo secret. */
  headers(body: string): Record<string, string>;
  /** Extra deliveries made from the fixture that take other code paths. */
  variants?(fixture: Record<string, unknown>): unknown[];
  /** Guest data the PMS API sandbox serves for it (thin events: sync fetches the guest). */
  served?: Record<string, unknown>;
}

const PII_FIXTURES: PiiFixture[] = [
  {
    pms: 'hostaway',
    file: 'hostaway-reservation.created.json',
    connectionId: 'hostaway-demo',
    headers: () => ({ authorization: HOSTAWAY_AUTH }),
    variants: (fixture) => {
      const data = fixture.data as Record<string, unknown>;
      const variant = (changes: Record<string, unknown>, event = 'reservation.updated') => ({ ...fixture, event, data: { ...data, ...changes } });
      return [
        variant({ updatedOn: '2026-05-03 10:00:00', departureDate: '2026-07-15' }),
        // Unusable optional fields are dropped and recorded (never their values).
        variant({ id: 48291735, updatedOn: '2026-05-03 10:00:00', phone: 'call Maria Lindqvist', guestEmail: 'maria.lindqvist at example' }),
        // A field that cannot be parsed: a 4xx whose error text must not echo the body.
        variant({ id: 48291736, arrivalDate: 'Maria Lindqvist', guestEmail: 'maria.lindqvist@example.com' }),
        // A property missing from the config: parked as unrouted.
        variant({ id: 48291737, listingMapId: 999999 }, 'reservation.created'),
        variant({ status: 'cancelled', updatedOn: '2026-05-04 10:00:00', departureDate: '2026-07-15' }),
      ];
    },
  },
  {
    pms: 'generic',
    file: 'generic-reservation.json',
    connectionId: 'generic-demo',
    headers: (body) => signStandardWebhook(GENERIC_DEMO_SECRET, `msg_${randomUUID()}`, Math.floor(Date.now() / 1000), body),
    variants: (fixture) => {
      const reservation = fixture.reservation as Record<string, unknown>;
      const guest = reservation.guest as Record<string, unknown>;
      return [
        { ...fixture, reservation: { ...reservation, version: 2, guest: { ...guest, phone: 'ring Jonas Becker', email: 'jonas.becker at example' } } },
        { ...fixture, reservation: { ...reservation, version: 3, checkInDate: 'Jonas Becker' } },
        { ...fixture, reservation: { ...reservation, id: 'R-1002', propertyId: 'not-configured' } },
      ];
    },
  },
  // Guesty: the legacy full event, and the lean v2 one whose guest the sync worker fetches from the API sandbox.
  { pms: 'guesty', file: 'guesty-reservation.new.json', connectionId: 'guesty-demo', headers: (body) => guestyHeaders(body), served: { guest: GUESTY_EXAMPLE_GUEST } },
  { pms: 'guesty', file: 'guesty-reservation.created.v2.json', connectionId: 'guesty-demo', headers: (body) => guestyHeaders(body, { prefix: 'webhook' }), served: { guest: GUESTY_EXAMPLE_GUEST } },
  // Smily: the booking (no guest data; the client is fetched from the API sandbox) and the client event.
  { pms: 'smily', file: 'smily-booking_created.json', connectionId: 'smily-demo', headers: (body) => ({ 'x-content-signature': signSmily(SMILY_DEMO_SECRET, body) }) },
  { pms: 'smily', file: 'smily-client_created.json', connectionId: 'smily-demo', headers: (body) => ({ 'x-content-signature': signSmily(SMILY_DEMO_SECRET, body) }) },
  // Lodgify: the full booking is a hint; the worker re-reads it from the API sandbox.
  {
    pms: 'lodgify',
    file: 'lodgify-booking_new_status_booked.json',
    connectionId: 'lodgify-demo',
    headers: (body) => ({ 'ms-signature': signLodgify(LODGIFY_SECRETS[1], body) }),
    served: LODGIFY_EXAMPLE_BOOKING,
    variants: (fixture) => {
      const booking = fixture.booking as Record<string, unknown>;
      return [
        // A delivery of two events (an array), one a booking whose dates cannot be read: a 400 that must not echo them.
        [{ ...fixture, action: 'booking_change' }, { ...fixture, booking: { ...booking, id: 5512035, date_arrival: 'Maria Lindqvist' } }],
        { ...fixture, action: 'booking_status_change_declined', booking: { ...booking, status: 'Declined' } },
      ];
    },
  },
  // Hospitable: the full reservation, and a partial `changed` completed from the API sandbox.
  {
    pms: 'hospitable',
    file: 'hospitable-reservation.created.json',
    connectionId: 'hospitable-demo',
    headers: (body) => ({ signature: signHospitable(HOSPITABLE_SECRET, body) }),
    variants: (fixture) => {
      const data = fixture.data as Record<string, unknown>;
      const guest = data.guest as Record<string, unknown>;
      return [
        { ...fixture, id: '01J0Z8K3M6N7P9Q1R3S5T7V9X2', action: 'reservation.changed', created: '2026-05-03T09:14:28Z', data: { ...data, guest: { ...guest, email: 'maria.lindqvist at example', phone_numbers: ['call Maria'] } } },
        { ...fixture, id: '01J0Z8K3M7N7P9Q1R3S5T7V9X3', action: 'reservation.changed', created: '2026-05-04T09:14:28Z', data: { id: data.id, check_in: data.check_in } },
        { ...fixture, id: '01J0Z8K3M8N7P9Q1R3S5T7V9X4', action: 'reservation.changed', created: '2026-05-05T09:14:28Z', data: { ...data, arrival_date: 'Maria Lindqvist' } },
      ];
    },
  },
  // apaleo, Mews, Cloudbeds: thin webhooks, URL tokens; the guest data comes from each API sandbox.
  {
    pms: 'apaleo',
    file: 'apaleo-reservation_created.json',
    connectionId: 'apaleo-demo',
    path: `apaleo-demo/${HOTEL_TOKENS.apaleo}`,
    headers: () => ({}),
    served: { primaryGuest: APALEO_EXAMPLE_RESERVATION.primaryGuest }, // (its unit and property names are not personal data)
    variants: (fixture) => [{ ...fixture, type: 'changed', data: {} }, { ...fixture, topic: 'system', type: 'healthcheck' }],
  },
  {
    pms: 'mews',
    file: 'mews-ServiceOrderUpdated.json',
    connectionId: 'mews-demo',
    path: `mews-demo/${HOTEL_TOKENS.mews}`,
    headers: () => ({}),
    served: MEWS_EXAMPLE_CUSTOMER,
    variants: (fixture) => [{ ...fixture, Events: [{ Discriminator: 'ServiceOrderUpdated', Value: { Id: 'not-a-reservation-there' } }] }],
  },
  {
    pms: 'cloudbeds',
    file: 'cloudbeds-reservation_created.json',
    connectionId: 'cloudbeds-demo',
    path: `cloudbeds-demo/${HOTEL_TOKENS.cloudbeds}`,
    headers: () => ({}),
    served: { guestName: CLOUDBEDS_EXAMPLE_RESERVATION.guestName, guestList: CLOUDBEDS_EXAMPLE_RESERVATION.guestList },
    variants: (fixture) => [{ ...fixture, event: 'reservation/status_changed', timestamp: 1777713300.5 }, { ...fixture, timestamp: 'Maria Lindqvist' }],
  },
  // Smoobu: no signature; the token is in the URL (and must not reach the logs either).
  {
    pms: 'smoobu',
    file: 'smoobu-newReservation.json',
    connectionId: 'smoobu-demo',
    path: `smoobu-demo/${SMOOBU_TOKEN}`,
    headers: () => ({}),
    variants: (fixture) => {
      const data = fixture.data as Record<string, unknown>;
      return [
        { ...fixture, action: 'updateReservation', data: { ...data, phone: 'ring Maria', email: 'maria at example' } },
        { ...fixture, action: 'updateReservation', data: { ...data, id: 119719487, arrival: 'Maria Lindqvist' } },
        { ...fixture, action: 'cancelReservation', data: { ...data, type: 'cancellation' } },
      ];
    },
  },
];

/** Keys whose values are personal data in PMS payloads (guest names, emails, phones). */
const PII_KEY = /(guest.*name|first_?name|last_?name|full_?name|^name$|e-?mails?|phones?|mobile|telephone)/i;

/** Keys inside personal-data values that are not personal data themselves (e.g. Smily `{"label":"mobile","number":...}`). */
const NOT_PII_KEY = /^(label|type|kind|primary|id|_id|preferred_?language|language|locale)$/i;

function piiValues(value: unknown, underPiiKey = false): string[] {
  if (typeof value === 'string') return underPiiKey && value.trim().length >= 3 ? [value.trim()] : [];
  if (Array.isArray(value)) return value.flatMap((v) => piiValues(v, underPiiKey));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => (NOT_PII_KEY.test(key) ? [] : piiValues(v, underPiiKey || PII_KEY.test(key))));
  }
  return [];
}

/** The forms a value could appear in: whole, each name part, an email's local part, a phone's digits. */
function needles(values: string[]): string[] {
  const out = new Set<string>();
  for (const value of values) {
    out.add(value);
    // Name parts (letters only, so no short digit runs that a hash or timestamp could contain by chance).
    for (const part of value.split(/[\s@.]+/)) if (/^[\p{L}'-]{4,}$/u.test(part) && !/^(example|call|ring)$/i.test(part)) out.add(part);
    const digits = value.replace(/\D/g, '');
    if (digits.length >= 7) out.add(digits);
  }
  return [...out];
}

let stack: LocalStack;
let output: ReturnType<typeof captureOutput>;

beforeAll(async () => {
  output = captureOutput();
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
  output.stop();
});

async function post(connectionId: string, body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${stack.urls.webhooks}/webhooks/${connectionId}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await response.text();
  return response.status;
}

describe('no guest names, emails or phone numbers in the logs', () => {
  it('has a fixture for every PMS type the code can ingest', () => {
    expect([...new Set(PII_FIXTURES.map((f) => f.pms))].sort()).toEqual([...pmsTypes].sort());
  });

  it('for every ingestible PMS fixture, through every path', async () => {
    const allNeedles: string[] = [];
    const statuses: number[] = [];
    let reachedMinut = false;
    for (const entry of PII_FIXTURES) {
      const fixture = JSON.parse(readFileSync(fixturePath(entry.file), 'utf8')) as Record<string, unknown>;
      const deliveries = [fixture, ...(entry.variants?.(fixture) ?? [])];
      allNeedles.push(...needles([...deliveries, entry.served ?? {}].flatMap((d) => piiValues(d))));

      // Minut fails: first a 5xx (retried), then a permanent 4xx for one delivery.
      stack.sandbox.minut.failNext({ status: 503, count: 2, method: 'POST', pathIncludes: '/guests' });
      for (const delivery of deliveries) {
        const body = JSON.stringify(delivery);
        statuses.push(await post(entry.path ?? entry.connectionId, body, entry.headers(body)));
        await stack.drain(60_000);
        reachedMinut ||= stack.sandbox.minut.guests().length > 0;
      }
      // The last variant cancelled the stay (guest deleted); this one books it again, and Minut refuses the create.
      // A delivery that fails authentication.
      const last = JSON.stringify(deliveries.at(-1));
      statuses.push(await post(entry.connectionId, last, { authorization: 'Basic bm9ib2R5Om5vcGU=', 'webhook-id': 'msg_x', 'webhook-timestamp': '1', 'webhook-signature': 'v1,bm9wZQ==' }));
      await stack.drain(60_000);
    }
    // The first stay is booked again after its cancellation, and Minut refuses the create.
    stack.sandbox.minut.failNext({ status: 400, count: 1, method: 'POST', pathIncludes: '/guests' });
    const hostaway = JSON.parse(readFileSync(fixturePath('hostaway-reservation.created.json'), 'utf8')) as Record<string, unknown>;
    const again = JSON.stringify({ ...hostaway, data: { ...(hostaway.data as object), updatedOn: '2026-05-05 10:00:00', departureDate: '2026-07-16' } });
    statuses.push(await post('hostaway-demo', again, { authorization: HOSTAWAY_AUTH }));
    await stack.drain(60_000);

    const captured = output.text();
    // The data really went through: accepted, rejected and failed paths were all taken...
    expect(statuses).toContain(202);
    expect(statuses).toContain(401);
    expect(statuses.some((s) => s >= 400 && s < 500 && s !== 401)).toBe(true);
    expect(reachedMinut).toBe(true);
    // ...and the capture works: the logs carry the correlation keys and the metrics.
    expect(captured).toContain('"reservationId":"48291734"');
    expect(captured).toContain('"connectionId":"hostaway-demo"');
    expect(captured).toContain('"deliveryId":');
    expect(captured).toContain('TargetFailedPermanent');
    expect(captured).toContain('OptionalFieldDropped');
    expect(captured).toContain('ReservationUnrouted');
    expect(captured).toContain('"TargetLatency"');
    expect(captured).toContain('"MessagesEnqueued"');
    expect(logger.getLevelName()).toBe('DEBUG'); // nothing was filtered out

    expect(allNeedles).toEqual(
      expect.arrayContaining(['Maria Lindqvist', 'maria.lindqvist@example.com', '+46701234567', '46701234567', 'Lindqvist', 'Jonas', 'jonas.becker@example.com', '4930901820']),
    );
    const haystack = captured.toLowerCase();
    const leaks = allNeedles.filter((needle) => haystack.includes(needle.toLowerCase()));
    expect(leaks, `personal data in the logs: ${leaks.join(', ')}`).toEqual([]);
    // The URL token of a token connection is a credential: not in any log line either.
    expect(captured).toContain('"connectionId":"smoobu-demo"');
    expect(haystack).not.toContain(SMOOBU_TOKEN.toLowerCase());
    for (const token of Object.values(HOTEL_TOKENS)) expect(haystack).not.toContain(token.toLowerCase());
  });
});
