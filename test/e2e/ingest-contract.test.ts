import { readFileSync } from 'node:fs';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../infra/local/standard-webhooks-signer.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { runCli } from '../support/cli.ts';
import { TestClock } from '../support/clock.ts';
import { hostawayDelivery, HOSTAWAY_AUTH, SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY, SEASIDE_SLUG } from '../support/hostaway.ts';
import { guestyReservation, sendGuesty } from '../support/pms.ts';
import { postWebhook, queueDepth, sendHostaway, resetTargetSandboxes, startTestStack, storeFor } from '../support/stack.ts';

/**
 * Whatever ingest accepts, sync can carry: the hostile deliveries that once got a 5xx or a 202
 * followed by five failed receives and the DLQ, each through the real path (local front →
 * ingest → queue → sync → the four target sandboxes). Each is either synced to every routed
 * target or, where no reservation can be had from it, a 4xx with its code.
 */
const clock = new TestClock('2026-07-11T10:00:00Z'); // inside the fixture's 10–14 July stay: RecepAI holds the guest too
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ now: clock.now, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => resetTargetSandboxes(stack));

const SLUG = SEASIDE_SLUG;
const KASIFY_PROPERTY = SEASIDE_KASIFY_PROPERTY;
const GENERIC_SECRET = 'whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5LTMyYnl0ZXM=';

/** The guest as each of the four sandboxes holds it (Minut: the one name field). */
function heldEverywhere(id: number, email: string) {
  const kasify = stack.sandbox.kasify.allBookings(KASIFY_PROPERTY).filter((b) => b.channel_id === `hostaway-demo:${id}` && b.status !== 'cancelled');
  const hostelmate = stack.sandbox.hostelmate.guests().filter((g) => g.email === email);
  return {
    minut: stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.email === email).map((g) => g.name),
    recepai: stack.sandbox.recepai.activeGuests(SLUG).filter((g) => g.pmsGuestId === `hostaway-demo:${id}`).map((g) => [g.firstName, g.lastName]),
    kasify: kasify.map((b) => [b.guest_first_name, b.guest_last_name]),
    hostelmate: hostelmate.map((g) => [g.first_name, g.last_name]),
  };
}

async function sendName(id: number, first: string, last: string) {
  const email = `guest.${id}@example.com`;
  const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id, guestFirstName: first, guestLastName: last, guestName: `${first} ${last}`, guestEmail: email }));
  expect(reply.status).toBe(202);
  await stack.drain();
  return heldEverywhere(id, email);
}

describe('names in every script reach all four targets unchanged', () => {
  const names: Array<[string, string, string]> = [
    ['an emoji and other astral characters (the local SQS refuses them raw)', 'Zoë 😀', 'Ng𝔘yễn'],
    ['right-to-left Arabic with marks', 'مريم\u200F', 'الحسيني'],
    ['CJK and Devanagari', '李', 'देवनागरी'],
    ['zero-width joiner and non-joiner', 'Ann\u200Da', 'Kr\u200Cistina'],
  ];
  let id = 860_001;
  for (const [name, first, last] of names) {
    const reservationId = id++;
    it(name, async () => {
      const held = await sendName(reservationId, first, last);
      expect(held).toEqual({ minut: [`${first} ${last}`], recepai: [[first, last]], kasify: [[first, last]], hostelmate: [[first, last]] });
    });
  }

  it('U+FFFE, U+FFFF and an unpaired surrogate, which no system on the path can carry, arrive as U+FFFD', async () => {
    // A raw unpaired surrogate cannot be UTF-8; a PMS sends it as a JSON escape.
    const body = JSON.stringify(hostawayDelivery('reservation.created', { id: 860_010, guestFirstName: 'Ma\uFFFEria', guestLastName: 'Lind\uFFFF', guestName: null, guestEmail: 'guest.860010@example.com' }))
      .replace('Lind', '\\ud800Lind');
    const reply = await postWebhook(stack, 'hostaway-demo', body, { authorization: HOSTAWAY_AUTH });
    expect(reply.status).toBe(202);
    await stack.drain();
    expect(heldEverywhere(860_010, 'guest.860010@example.com')).toEqual({
      minut: ['Ma\uFFFDria \uFFFDLind\uFFFD'],
      recepai: [['Ma\uFFFDria', '\uFFFDLind\uFFFD']],
      kasify: [['Ma\uFFFDria', '\uFFFDLind\uFFFD']],
      hostelmate: [['Ma\uFFFDria', '\uFFFDLind\uFFFD']],
    });
  });
});

describe('accepted and synced, with the bad optional field dropped or cut and recorded', () => {
  it('Hostaway numberOfGuests 1e300: the party size is dropped, the split still reaches Kasify and RecepAI', async () => {
    const email = 'guest.860020@example.com';
    expect((await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 860_020, numberOfGuests: 1e300, guestEmail: email }))).status).toBe(202);
    await stack.drain();
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'hostaway-demo', reservationId: '860020' });
    expect(snapshot?.reservation).toMatchObject({ partySize: null, party: { adults: 2, children: 1 }, dropped: [{ field: 'partySize', reason: 'out_of_range' }] });
    expect(stack.sandbox.kasify.allBookings(KASIFY_PROPERTY).find((b) => b.channel_id === 'hostaway-demo:860020')).toMatchObject({ adults_count: 2, children_count: 1 });
    expect(stack.sandbox.recepai.activeGuests(SLUG).find((g) => g.pmsGuestId === 'hostaway-demo:860020')).toMatchObject({ adults: 2, children: 1 });
  });

  it('a 900 KB first name: accepted, cut to 200 characters, synced everywhere (no DynamoDB item over 400 KB)', async () => {
    const email = 'guest.860021@example.com';
    const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 860_021, guestFirstName: 'A'.repeat(900_000), guestName: null, guestEmail: email }));
    expect(reply.status).toBe(202);
    await stack.drain();
    const held = heldEverywhere(860_021, email);
    expect(held.recepai).toEqual([['A'.repeat(100), 'Lindqvist']]); // RecepAI takes first names of up to 100
    expect(held.kasify).toEqual([['A'.repeat(200), 'Lindqvist']]);
    expect(held.hostelmate).toEqual([['A'.repeat(200), 'Lindqvist']]);
    expect(held.minut).toHaveLength(1);
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'hostaway-demo', reservationId: '860021' });
    expect(snapshot?.reservation.dropped).toContainEqual({ field: 'guest.firstName', reason: 'truncated' });
  });

  it('a generic reservation id with spaces and non-ASCII characters: a valid SQS group, synced', async () => {
    const body = JSON.stringify({
      type: 'reservation.upserted',
      reservation: { id: 'R 42 é予約 😀', propertyId: 'city-flat', status: 'confirmed', checkInDate: '2026-12-18', checkOutDate: '2026-12-22', version: 1, guest: { firstName: 'Id', lastName: 'Spaces', email: 'id.spaces@example.com' } },
    });
    const reply = await postWebhook(stack, 'generic-demo', body, signStandardWebhook(GENERIC_SECRET, 'msg_ids_1', Math.floor(Date.now() / 1000), body));
    expect(reply.status).toBe(202);
    await stack.drain();
    expect(stack.sandbox.minut.guests('home_demo_city').filter((g) => g.name === 'Id Spaces')).toHaveLength(1);
    expect(stack.sandbox.hostelmate.guests().filter((g) => g.email === 'id.spaces@example.com')).toHaveLength(1);
    const states = await storeFor(stack).listTargetStates({ connectionId: 'generic-demo', reservationId: 'R 42 é予約 😀' });
    expect(Object.fromEntries(states.map((s) => [s.target, s.status]))).toEqual({ minut: 'synced', kasify: 'synced', hostelmate: 'synced', recepai: 'absent' });
  });

  it('an in-house generic guest at city-flat reaches RecepAI\'s city-hotel, with that hotel\'s own key', async () => {
    const body = JSON.stringify({
      type: 'reservation.upserted',
      reservation: { id: 'R-CITY-1', propertyId: 'city-flat', status: 'confirmed', checkInDate: '2026-07-10', checkOutDate: '2026-07-14', version: 1, guest: { firstName: 'City', lastName: 'Guest', email: 'city.guest@example.com' } },
    });
    expect((await postWebhook(stack, 'generic-demo', body, signStandardWebhook(GENERIC_SECRET, 'msg_city_1', Math.floor(Date.now() / 1000), body))).status).toBe(202);
    await stack.drain();
    expect(stack.sandbox.recepai.activeGuests('city-hotel')).toEqual([expect.objectContaining({ pmsGuestId: 'generic-demo:R-CITY-1', firstName: 'City', lastName: 'Guest' })]);
    expect(await storeFor(stack).getTargetState({ connectionId: 'generic-demo', reservationId: 'R-CITY-1' }, 'recepai')).toMatchObject({ status: 'synced' });
  });

  it('a generic event for a property not in the config with timeZone "Mars/Olympus": parked as unrouted, the zone dropped', async () => {
    const body = JSON.stringify({
      type: 'reservation.upserted',
      reservation: { id: 'R-MARS', propertyId: 'not-configured', status: 'confirmed', checkInDate: '2026-12-18', checkOutDate: '2026-12-22', timeZone: 'Mars/Olympus', version: 1 },
    });
    const reply = await postWebhook(stack, 'generic-demo', body, signStandardWebhook(GENERIC_SECRET, 'msg_mars', Math.floor(Date.now() / 1000), body));
    expect(reply.status).toBe(202);
    await stack.drain();
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'generic-demo', reservationId: 'R-MARS' });
    expect(snapshot).toMatchObject({ unrouted: true, reservation: { stay: { timeZone: null }, dropped: [{ field: 'stay.timeZone', reason: 'invalid_time_zone' }] } });
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(0);
  });

  it('a Guesty legacy event with no localized dates: the dates come from the instants in the listing\'s zone', async () => {
    const reservation = guestyReservation({ _id: 'gy-odd-1', checkInDateLocalized: undefined, checkOutDateLocalized: undefined, checkIn: '2026-07-10T13:00:00.000Z', checkOut: '2026-07-14T23:30:00.5-05:00' });
    const reply = await sendGuesty(stack, { event: 'reservation.new', reservation });
    expect(reply.status).toBe(202);
    await stack.drain();
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'guesty-demo', reservationId: 'gy-odd-1' });
    expect(snapshot?.reservation.stay).toMatchObject({ checkInDate: '2026-07-10', checkOutDate: '2026-07-15' });
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(0);
  });
});

describe('no reservation can be had: a 4xx with its code, nothing queued or stored', () => {
  const nothingFor = async (connectionId: string, reservationId: string) => {
    expect(await storeFor(stack).getSnapshot({ connectionId, reservationId })).toBeUndefined();
    expect(await queueDepth(stack)).toBe(0);
  };

  it('Hostaway updatedOn "2026-99-99 99:99:99" (passes the pattern, is no time): 400 naming data.updatedOn', async () => {
    const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 860_030, updatedOn: '2026-99-99 99:99:99' }));
    expect(reply).toMatchObject({ status: 400, body: { error: { code: 'invalid_field', message: expect.stringContaining('data.updatedOn') } } });
    await nothingFor('hostaway-demo', '860030');
  });

  it('a stay from 0001-01-01 to 9999-12-31: 400 naming the date', async () => {
    const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 860_031, arrivalDate: '0001-01-01', departureDate: '9999-12-31' }));
    expect(reply).toMatchObject({ status: 400, body: { error: { code: 'invalid_field', message: expect.stringContaining('check-in date') } } });
    await nothingFor('hostaway-demo', '860031');
  });

  it('a stay longer than maxStayNights: 400 stay_too_long', async () => {
    const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 860_032, arrivalDate: '2026-07-10', departureDate: '2028-07-10' }));
    expect(reply).toMatchObject({ status: 400, body: { error: { code: 'stay_too_long', message: expect.stringContaining('the limit is 400') } } });
    await nothingFor('hostaway-demo', '860032');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])('POST /webhooks/%s: 404 unknown_connection, not a 503', async (name) => {
    const reply = await postWebhook(stack, name, JSON.stringify(hostawayDelivery('reservation.created')), { authorization: HOSTAWAY_AUTH });
    expect(reply).toMatchObject({ status: 404, body: { error: { code: 'unknown_connection' } } });
  });

  it('a path that is not valid percent-encoding: 400 invalid_request as JSON, and the front keeps answering', async () => {
    const response = await fetch(`${stack.urls.webhooks}/webhooks/%E0%A4%A`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 'invalid_request', message: expect.stringMatching(/^[A-Z].*\.$/) } });
    expect((await fetch(`${stack.urls.webhooks}/health`)).status).toBe(200);
  });
});

describe('a message sync cannot read is set aside at once', () => {
  it('goes to the DLQ on its first receive with its reason findable, and the next message of its group syncs at once', async () => {
    const group = 'hostaway-demo#860040';
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: JSON.stringify({ v: 7, kind: 'reservation', connectionId: 'hostaway-demo', reservationId: '860040' }), MessageGroupId: group, MessageDeduplicationId: 'unreadable-860040' }));
    expect((await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 860_040, guestEmail: 'guest.860040@example.com' }))).status).toBe(202);
    const started = Date.now();
    await stack.drain();
    // Retried, the bad message would hold the group for backoffs of 2 + 4 + 8 + 16 s before the DLQ.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(heldEverywhere(860_040, 'guest.860040@example.com').minut).toHaveLength(1);
    const dead = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['MessageGroupId'] }));
    expect(dead.Messages).toHaveLength(1);
    await stack.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: stack.dlqUrl, ReceiptHandle: dead.Messages![0]!.ReceiptHandle!, VisibilityTimeout: 0 }));
    expect(dead.Messages![0]).toMatchObject({ Attributes: { MessageGroupId: group }, MessageAttributes: { reason: { StringValue: expect.stringMatching(/^v: /) } } });
    const status = await runCli(stack, ['status', 'hostaway-demo', '860040']);
    expect(status.stdout).toMatch(/Set aside: message .* could not be read by this release and is in the DLQ/);
    // Replaying moves it back in its group; this release sets it aside again (a fixed release would read it).
    const replay = await runCli(stack, ['replay-dlq', '--include-unreadable']);
    expect(replay.stdout).toContain('replayed 1');
    await stack.drain();
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(1);
    await runCli(stack, ['replay-dlq', '--include-unreadable']); // and once more: it does not loop
    await stack.drain();
    const again = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(again.Messages).toHaveLength(1);
    await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.dlqUrl, ReceiptHandle: again.Messages![0]!.ReceiptHandle! }));
  });
});

describe('upgrade safety: what the previous release wrote is read and synced', () => {
  const fixture = (name: string) => readFileSync(new URL(`../fixtures/schema-v1/${name}`, import.meta.url), 'utf8');

  it('a v1 queue message in flight across the deploy', async () => {
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: fixture('reservation-message.json'), MessageGroupId: 'hostaway-demo#760001', MessageDeduplicationId: 'v1-760001' }));
    await stack.drain();
    expect(heldEverywhere(760_001, 'vera.previous.760001@example.com')).toEqual({ minut: ['Vera Previous'], recepai: [['Vera', 'Previous']], kasify: [['Vera', 'Previous']], hostelmate: [['Vera', 'Previous']] });
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(0);
  });

  it('a v1 snapshot item, driven by a v1 resync message', async () => {
    const item = JSON.parse(fixture('snapshot-item.json')) as Record<string, unknown>;
    await DynamoDBDocumentClient.from(stack.dynamodb).send(new PutCommand({ TableName: stack.tableName, Item: item }));
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: JSON.stringify({ v: 1, kind: 'resync', connectionId: 'hostaway-demo', reservationId: '760002', requestedAt: 1, reason: 'operator' }), MessageGroupId: 'hostaway-demo#760002', MessageDeduplicationId: 'v1-resync-760002' }));
    await stack.drain();
    expect(heldEverywhere(760_002, 'stina.stored.760002@example.com')).toEqual({ minut: ['Stina Stored'], recepai: [['Stina', 'Stored']], kasify: [['Stina', 'Stored']], hostelmate: [['Stina', 'Stored']] });
  });
});
