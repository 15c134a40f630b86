import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHospitable } from '../../functions/sources/hospitable.ts';
import { signLodgify } from '../../functions/sources/lodgify.ts';
import { signSmily } from '../../functions/sources/smily.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import {
  example,
  guestyHeaders,
  HOSPITABLE_SECRET,
  LODGIFY_SECRETS,
  SMILY_SECRET,
  sendGuesty,
  sendHospitable,
  sendLodgify,
  sendSmily,
  sendSmoobu,
  smilyBooking,
  smilyEnvelope,
} from '../support/pms.ts';
import { HOTEL_TOKENS } from '../support/hotel-pms.ts';
import { postWebhook, queueDepth, startTestStack, tableItemCount, type WebhookReply } from '../support/stack.ts';

/** No sync worker runs here, so anything ingest queued would still be in the queue. */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ syncWorkers: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

const legacy = JSON.stringify(example('guesty-reservation.new.json'));
const now = () => Math.floor(Date.now() / 1000);
const guestyRaw = (body: string, headers: Record<string, string>) => postWebhook(stack, 'guesty-demo', body, headers);
const smilyRaw = (body: string, headers: Record<string, string>) => postWebhook(stack, 'smily-demo', body, headers);
const booking = JSON.stringify(example('smily-booking_created.json'));
const lodgifyEvent = example<{ booking: Record<string, unknown>; guest: object }>('lodgify-booking_new_status_booked.json');
const lodgifyBody = JSON.stringify(lodgifyEvent);
const hospitableEvent = example<{ data: Record<string, unknown> }>('hospitable-reservation.created.json');
const hospitableBody = JSON.stringify(hospitableEvent);
const smoobuEvent = example<{ data: Record<string, unknown> }>('smoobu-newReservation.json');
const apaleoBody = JSON.stringify(example('apaleo-reservation_created.json'));
const mewsBody = JSON.stringify(example('mews-ServiceOrderUpdated.json'));
const cloudbedsBody = JSON.stringify(example('cloudbeds-reservation_created.json'));
const hotel = (pms: keyof typeof HOTEL_TOKENS, body: unknown) => postWebhook(stack, `${pms}-demo/${HOTEL_TOKENS[pms]}`, typeof body === 'string' ? body : JSON.stringify(body), {});

type Case = { name: string; send: () => Promise<WebhookReply>; status: number; code: string };

const cases: Case[] = [
  // Guesty: Svix verification, each failure with its own code.
  { name: 'Guesty without any signature header', send: () => guestyRaw(legacy, {}), status: 401, code: 'missing_signature' },
  { name: 'Guesty with svix-id and svix-timestamp but no svix-signature', send: () => guestyRaw(legacy, { 'svix-id': 'msg_1', 'svix-timestamp': String(now()) }), status: 401, code: 'missing_signature' },
  { name: 'Guesty with a tampered body', send: () => guestyRaw(legacy.replace('GY-aB3dE9fQ', 'GY-aB3dE9fX'), guestyHeaders(legacy)), status: 401, code: 'invalid_signature' },
  { name: 'Guesty signed with another secret', send: () => guestyRaw(legacy, guestyHeaders(legacy, { secret: 'whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmI=' })), status: 401, code: 'invalid_signature' },
  { name: 'Guesty with a stale timestamp', send: () => guestyRaw(legacy, guestyHeaders(legacy, { at: now() - 600 })), status: 401, code: 'stale_timestamp' },
  { name: 'Guesty with a future timestamp', send: () => guestyRaw(legacy, guestyHeaders(legacy, { at: now() + 600, prefix: 'webhook' })), status: 401, code: 'future_timestamp' },
  { name: 'Guesty with a non-numeric timestamp', send: () => guestyRaw(legacy, { ...guestyHeaders(legacy), 'svix-timestamp': 'yesterday' }), status: 401, code: 'invalid_signature_headers' },
  // Guesty: signed, but unusable. A bad signature (401) and bad JSON (400) stay distinct.
  { name: 'Guesty signed but not JSON', send: () => sendGuesty(stack, '{"event": "reservation.new",'), status: 400, code: 'invalid_json' },
  { name: 'Guesty signed JSON array', send: () => sendGuesty(stack, '[]'), status: 400, code: 'invalid_payload' },
  { name: 'Guesty without an event name', send: () => sendGuesty(stack, { reservation: { _id: 'x' } }), status: 400, code: 'missing_field' },
  { name: 'Guesty v2 without any reservation id', send: () => sendGuesty(stack, { event: 'reservation.updated.v2', data: { status: 'confirmed' } }), status: 400, code: 'missing_field' },
  { name: 'Guesty legacy without the reservation', send: () => sendGuesty(stack, { event: 'reservation.new' }), status: 400, code: 'missing_field' },
  { name: 'Guesty legacy with a malformed check-in date', send: () => sendGuesty(stack, { event: 'reservation.new', reservation: { ...(JSON.parse(legacy) as { reservation: object }).reservation, checkInDateLocalized: '10/07/2026' } }), status: 400, code: 'invalid_field' },
  { name: 'Guesty legacy without a listing id', send: () => sendGuesty(stack, { event: 'reservation.new', reservation: { ...(JSON.parse(legacy) as { reservation: object }).reservation, listingId: undefined } }), status: 400, code: 'missing_field' },
  // Smily: X-Content-Signature.
  { name: 'Smily without X-Content-Signature', send: () => smilyRaw(booking, {}), status: 401, code: 'missing_signature' },
  { name: 'Smily with a signature over another body', send: () => smilyRaw(booking.replace('0A1B2C', '0A1B2D'), { 'x-content-signature': signedSmily(booking) }), status: 401, code: 'invalid_signature' },
  { name: 'Smily with a signature made with another secret', send: () => sendSmily(stack, booking, 'not-the-app-secret'), status: 401, code: 'invalid_signature' },
  // Smily: signed, but unusable.
  { name: 'Smily signed but not JSON', send: () => sendSmily(stack, 'event=booking_created'), status: 400, code: 'invalid_json' },
  { name: 'Smily booking event without a booking', send: () => sendSmily(stack, { account_id: 1, event: 'booking_created', resource: {} }), status: 400, code: 'missing_field' },
  { name: 'Smily booking without an id', send: () => sendSmily(stack, smilyEnvelope('booking_updated', { ...smilyBooking({}), id: undefined })), status: 400, code: 'missing_field' },
  { name: 'Smily booking with a malformed start_at', send: () => sendSmily(stack, smilyEnvelope('booking_created', smilyBooking({ start_at: '2026-07-10 14:00' }))), status: 400, code: 'invalid_field' },
  { name: 'Smily booking ending before it starts', send: () => sendSmily(stack, smilyEnvelope('booking_created', smilyBooking({ start_at: '2026-07-14T14:00:00Z', end_at: '2026-07-10T10:00:00Z' }))), status: 400, code: 'invalid_field' },
  { name: 'Smily client_updated without a client id', send: () => sendSmily(stack, { account_id: 1, event: 'client_updated', resource: { client: { fullname: 'x' } } }), status: 400, code: 'missing_field' },
];

/** What Smily would send for `body`: valid only for those bytes. */
const signedSmily = (body: string) => signSmily(SMILY_SECRET, body);

cases.push(
  // Lodgify: ms-signature over the raw body.
  { name: 'Lodgify without ms-signature', send: () => postWebhook(stack, 'lodgify-demo', lodgifyBody, {}), status: 401, code: 'missing_signature' },
  { name: 'Lodgify with a signature over another body', send: () => postWebhook(stack, 'lodgify-demo', lodgifyBody.replace('5512034', '5512035'), { 'ms-signature': signLodgify(LODGIFY_SECRETS[0], lodgifyBody) }), status: 401, code: 'invalid_signature' },
  { name: 'Lodgify signed with another secret', send: () => sendLodgify(stack, lodgifyBody, 'not-a-subscription-secret'), status: 401, code: 'invalid_signature' },
  { name: 'Lodgify signed but not JSON', send: () => sendLodgify(stack, 'action=booking_change'), status: 400, code: 'invalid_json' },
  { name: 'Lodgify booking event without a booking', send: () => sendLodgify(stack, { action: 'booking_change' }), status: 400, code: 'missing_field' },
  { name: 'Lodgify booking without an id', send: () => sendLodgify(stack, { ...lodgifyEvent, booking: { ...lodgifyEvent.booking, id: undefined } }), status: 400, code: 'missing_field' },
  { name: 'Lodgify booking with a malformed arrival', send: () => sendLodgify(stack, { ...lodgifyEvent, booking: { ...lodgifyEvent.booking, date_arrival: '10.07.2026' } }), status: 400, code: 'invalid_field' },
  { name: 'Lodgify batch with a non-object event', send: () => sendLodgify(stack, [lodgifyEvent, 42]), status: 400, code: 'invalid_payload' },
  // Hospitable: Signature over the raw body.
  { name: 'Hospitable without Signature', send: () => postWebhook(stack, 'hospitable-demo', hospitableBody, {}), status: 401, code: 'missing_signature' },
  { name: 'Hospitable with a tampered body', send: () => postWebhook(stack, 'hospitable-demo', hospitableBody.replace('Maria', 'Marie'), { signature: signHospitable(HOSPITABLE_SECRET, hospitableBody) }), status: 401, code: 'invalid_signature' },
  { name: 'Hospitable changed event naming no reservation', send: () => sendHospitable(stack, { ...hospitableEvent, action: 'reservation.changed', data: { check_in: '2026-07-10T15:00:00+02:00' } }), status: 400, code: 'missing_field' },
  { name: 'Hospitable without the event time', send: () => sendHospitable(stack, { ...hospitableEvent, created: undefined }), status: 400, code: 'missing_field' },
  { name: 'Hospitable with a date without offset', send: () => sendHospitable(stack, { ...hospitableEvent, data: { ...hospitableEvent.data, arrival_date: '2026-07-10' } }), status: 400, code: 'invalid_field' },
  // apaleo, Mews, Cloudbeds: a token in the URL, thin payloads.
  { name: 'apaleo without its URL token', send: () => postWebhook(stack, 'apaleo-demo', apaleoBody, {}), status: 401, code: 'missing_token' },
  { name: 'apaleo with another connection\'s token', send: () => postWebhook(stack, `apaleo-demo/${HOTEL_TOKENS.mews}`, apaleoBody, {}), status: 401, code: 'invalid_token' },
  { name: 'apaleo reservation event without an entity id', send: () => hotel('apaleo', { topic: 'Reservation', type: 'changed', data: {} }), status: 400, code: 'missing_field' },
  { name: 'apaleo event without a topic', send: () => hotel('apaleo', { type: 'changed', data: { entityId: 'X-1' } }), status: 400, code: 'missing_field' },
  { name: 'Mews with a wrong URL token', send: () => postWebhook(stack, `mews-demo?token=${'m'.repeat(40)}`, mewsBody, {}), status: 401, code: 'invalid_token' },
  { name: 'Mews batch without an enterprise', send: () => hotel('mews', { Events: [] }), status: 400, code: 'missing_field' },
  { name: 'Mews reservation event without an id', send: () => hotel('mews', { EnterpriseId: 'e', Events: [{ Discriminator: 'ServiceOrderUpdated', Value: {} }] }), status: 400, code: 'missing_field' },
  { name: 'Mews signed-in but not JSON', send: () => postWebhook(stack, `mews-demo/${HOTEL_TOKENS.mews}`, '{"Events": [', {}), status: 400, code: 'invalid_json' },
  { name: 'Cloudbeds without its URL token', send: () => postWebhook(stack, 'cloudbeds-demo', cloudbedsBody, {}), status: 401, code: 'missing_token' },
  { name: 'Cloudbeds event without a reservation id', send: () => hotel('cloudbeds', { event: 'reservation/created', propertyID: 1, timestamp: 1 }), status: 400, code: 'missing_field' },
  { name: 'Cloudbeds event without its timestamp', send: () => hotel('cloudbeds', { event: 'reservation/created', reservationID: '1', propertyID: 1 }), status: 400, code: 'missing_field' },
  { name: 'Cloudbeds event with a timestamp that is not Unix seconds', send: () => hotel('cloudbeds', { event: 'reservation/created', reservationID: '1', timestamp: '2026-07-10' }), status: 400, code: 'invalid_field' },
  // Smoobu: a token in the URL.
  { name: 'Smoobu without its URL token', send: () => sendSmoobu(stack, smoobuEvent, { token: null }), status: 401, code: 'missing_token' },
  { name: 'Smoobu with a wrong URL token', send: () => sendSmoobu(stack, smoobuEvent, { token: 'x'.repeat(40), via: 'path' }), status: 401, code: 'invalid_token' },
  { name: 'Smoobu with its token but not JSON', send: () => sendSmoobu(stack, 'action=newReservation'), status: 400, code: 'invalid_json' },
  { name: 'Smoobu reservation event without data', send: () => sendSmoobu(stack, { action: 'newReservation' }), status: 400, code: 'missing_field' },
  { name: 'Smoobu reservation without an apartment', send: () => sendSmoobu(stack, { ...smoobuEvent, data: { ...smoobuEvent.data, apartment: undefined } }), status: 400, code: 'missing_field' },
  { name: 'Smoobu reservation leaving before it arrives', send: () => sendSmoobu(stack, { ...smoobuEvent, data: { ...smoobuEvent.data, departure: '2026-07-01' } }), status: 400, code: 'invalid_field' },
);

describe('PMS sources: bad input gets a clear answer, and nothing is queued', () => {
  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.status} ${testCase.code}`, async () => {
      const reply = await testCase.send();
      expect(reply.status).toBe(testCase.status);
      expect(reply.body.error?.code).toBe(testCase.code);
      expect(reply.body.error?.message).toMatch(/^[A-Z].*\.$/);
      expect(await queueDepth(stack)).toBe(0);
      expect(await tableItemCount(stack)).toBe(0);
    });
  }

  it('acknowledges events that are not about reservations with 200, queuing nothing', async () => {
    expect(await sendGuesty(stack, { event: 'guest.updated', guest: { _id: 'g1' } })).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'not_a_reservation_event:guest.updated' } });
    expect(await sendSmily(stack, { account_id: 1, event: 'rental_updated', resource: { rental: { id: 1 } } })).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await sendLodgify(stack, { action: 'rate_change' })).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'not_a_booking_event:rate_change' } });
    expect(await sendHospitable(stack, { ...hospitableEvent, action: 'message.created' })).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await sendSmoobu(stack, { action: 'newMessage', user: 1, data: {} })).toMatchObject({ status: 200, body: { status: 'ignored' } });
    // apaleo's subscription health check must get a 2xx, or apaleo refuses the subscription.
    expect(await hotel('apaleo', example('apaleo-system_healthcheck.json'))).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'system:healthcheck' } });
    expect(await hotel('apaleo', { topic: 'Folio', type: 'created', data: { entityId: 'F-1' } })).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await hotel('mews', { EnterpriseId: 'e', Events: [{ Discriminator: 'CustomerAdded', Value: { Id: 'c' } }, { Discriminator: 'PaymentUpdated', Value: { Id: 'p' } }] })).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await hotel('cloudbeds', { event: 'guest/created', guestID: 1, timestamp: 1 })).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await queueDepth(stack)).toBe(0);
  });

  it('still accepts good deliveries afterwards, with svix-* and with webhook-* headers', async () => {
    expect((await sendGuesty(stack, legacy)).status).toBe(202);
    expect((await sendGuesty(stack, example('guesty-reservation.created.v2.json'), { prefix: 'webhook' })).status).toBe(202);
    expect((await sendSmily(stack, booking)).status).toBe(202);
    expect((await sendLodgify(stack, lodgifyBody, LODGIFY_SECRETS[1])).status).toBe(202);
    expect((await sendHospitable(stack, hospitableBody)).status).toBe(202);
    expect((await sendSmoobu(stack, smoobuEvent, { via: 'path' })).status).toBe(202);
    expect((await hotel('apaleo', apaleoBody)).status).toBe(202);
    expect((await hotel('mews', mewsBody)).status).toBe(202); // one reservation, one customer
    expect((await hotel('cloudbeds', cloudbedsBody)).status).toBe(202);
    expect(await queueDepth(stack)).toBe(10);
  });
});
