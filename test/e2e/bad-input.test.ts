import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../functions/core/config.ts';
import { LocalSecretStore } from '../../functions/core/secrets.ts';
import { createIngestHandler } from '../../functions/ingest/handler-factory.ts';
import { signStandardWebhook } from '../../infra/local/standard-webhooks-signer.ts';
import { toApiGatewayEvent } from '../../infra/local/http-front.ts';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { hostawayDelivery, HOSTAWAY_AUTH } from '../support/hostaway.ts';
import { captureOutput } from '../support/capture-output.ts';
import { postWebhook, queueDepth, sendHostaway, startTestStack, tableItemCount } from '../support/stack.ts';

/** No sync worker runs here, so anything ingest queued would still be in the queue. */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ syncWorkers: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

const GENERIC_SECRET = 'whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5LTMyYnl0ZXM=';
const genericBody = JSON.stringify({
  type: 'reservation.upserted',
  reservation: { id: 'R-9', propertyId: 'city-flat', status: 'confirmed', checkInDate: '2026-12-18', checkOutDate: '2026-12-22', version: 1, guest: { firstName: 'A', lastName: 'B' } },
});
const now = () => Math.floor(Date.now() / 1000);
const sendGeneric = (body: string, headers: Record<string, string>) => postWebhook(stack, 'generic-demo', body, headers);

type Case = { name: string; send: () => Promise<{ status: number; body: { error?: { code: string; message: string } } }>; status: number; code: string };

const cases: Case[] = [
  { name: 'a body that is not JSON', send: () => sendHostaway(stack, '{"event": "reservation.created", '), status: 400, code: 'invalid_json' },
  { name: 'a JSON array', send: () => sendHostaway(stack, '[]'), status: 400, code: 'invalid_payload' },
  { name: 'a wrong type (arrivalDate as a number)', send: () => sendHostaway(stack, hostawayDelivery('reservation.created', { arrivalDate: 20260710 })), status: 400, code: 'invalid_field' },
  { name: 'a malformed date', send: () => sendHostaway(stack, hostawayDelivery('reservation.created', { departureDate: '14/07/2026' })), status: 400, code: 'invalid_field' },
  { name: 'a missing listing id', send: () => sendHostaway(stack, hostawayDelivery('reservation.created', { listingMapId: undefined })), status: 400, code: 'missing_field' },
  { name: 'a departure before the arrival', send: () => sendHostaway(stack, hostawayDelivery('reservation.created', { arrivalDate: '2026-07-14', departureDate: '2026-07-10' })), status: 400, code: 'invalid_field' },
  { name: 'a reservation event without data', send: () => sendHostaway(stack, { object: 'reservation', event: 'reservation.created' }), status: 400, code: 'missing_field' },
  { name: 'no Basic credentials', send: () => postWebhook(stack, 'hostaway-demo', JSON.stringify(hostawayDelivery('reservation.created')), {}), status: 401, code: 'missing_credentials' },
  { name: 'a wrong Basic password', send: () => sendHostaway(stack, hostawayDelivery('reservation.created'), `Basic ${Buffer.from('hostaway-demo:wrong').toString('base64')}`), status: 401, code: 'invalid_credentials' },
  { name: 'a generic delivery without signature headers', send: () => sendGeneric(genericBody, {}), status: 401, code: 'missing_signature' },
  { name: 'a bad Standard Webhooks signature (tampered body)', send: () => sendGeneric(genericBody.replace('R-9', 'R-8'), signStandardWebhook(GENERIC_SECRET, 'msg_1', now(), genericBody)), status: 401, code: 'invalid_signature' },
  { name: 'a signature made with another secret', send: () => sendGeneric(genericBody, signStandardWebhook('whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmI=', 'msg_2', now(), genericBody)), status: 401, code: 'invalid_signature' },
  { name: 'a stale timestamp', send: () => sendGeneric(genericBody, signStandardWebhook(GENERIC_SECRET, 'msg_3', now() - 600, genericBody)), status: 401, code: 'stale_timestamp' },
  { name: 'a future timestamp', send: () => sendGeneric(genericBody, signStandardWebhook(GENERIC_SECRET, 'msg_4', now() + 600, genericBody)), status: 401, code: 'future_timestamp' },
  { name: 'a correctly signed generic body with a wrong status', send: () => { const body = genericBody.replace('"confirmed"', '"booked"'); return sendGeneric(body, signStandardWebhook(GENERIC_SECRET, 'msg_5', now(), body)); }, status: 400, code: 'invalid_field' },
  { name: 'an unknown connection', send: () => postWebhook(stack, 'no-such-pms', '{}', { authorization: HOSTAWAY_AUTH }), status: 404, code: 'unknown_connection' },
  { name: 'a 2 MB body', send: () => sendHostaway(stack, hostawayDelivery('reservation.created', { padding: 'x'.repeat(2 * 1024 * 1024) })), status: 413, code: 'payload_too_large' },
  { name: 'a generic delivery with a timestamp that is not Unix seconds', send: () => sendGeneric(genericBody, { ...signStandardWebhook(GENERIC_SECRET, 'msg_6', now(), genericBody), 'webhook-timestamp': 'yesterday' }), status: 401, code: 'invalid_signature_headers' },
  { name: 'a stay longer than maxStayNights', send: () => sendHostaway(stack, hostawayDelivery('reservation.created', { arrivalDate: '2026-07-10', departureDate: '2028-01-10' })), status: 400, code: 'stay_too_long' },
  { name: 'a path that is not valid percent-encoding', send: async () => { const r = await fetch(`${stack.urls.webhooks}/webhooks/%E0%A4%A`, { method: 'POST', body: '{}' }); return { status: r.status, body: (await r.json()) as { error?: { code: string; message: string } } }; }, status: 400, code: 'invalid_request' },
  { name: 'a URL-token connection without its token', send: () => postWebhook(stack, 'smoobu-demo', '{}', {}), status: 401, code: 'missing_token' },
  { name: 'a URL-token connection with a wrong token', send: () => postWebhook(stack, `smoobu-demo/${'x'.repeat(36)}`, '{}', {}), status: 401, code: 'invalid_token' },
  { name: 'a delivery from outside the connection\'s allowed addresses', send: () => inProcess({ sourceIp: '203.0.113.9' }), status: 401, code: 'source_ip_not_allowed' },
  { name: 'a Function URL request to a path that is not a webhook\'s', send: () => inProcess({ functionUrl: { path: '/admin' } }), status: 404, code: 'unknown_route' },
  { name: 'a Function URL request that is not a POST', send: () => inProcess({ functionUrl: { path: '/webhooks/hostaway-demo', method: 'GET' } }), status: 405, code: 'method_not_allowed' },
  { name: 'the queue refusing the message (injected)', send: () => inProcess({ queueFails: true }), status: 503, code: 'enqueue_failed' },
  { name: 'the secret store failing (injected)', send: () => inProcess({ secretsFail: true }), status: 503, code: 'secret_unavailable' },
];

/**
 * The real ingest handler in process, with its queue or its secret store failing (the two 5xx
 * of the table), or the Hostaway connection limited to Hostaway's addresses and the delivery
 * coming from `sourceIp`.
 */
async function inProcess(fault: { queueFails?: boolean; secretsFail?: boolean; sourceIp?: string; functionUrl?: { path: string; method?: string } }) {
  const config = loadConfigFile('config/guest-sync.example.json');
  if (fault.sourceIp) config.connections['hostaway-demo']!.allowedSourceIps = ['192.0.2.0/24'];
  const secrets = new LocalSecretStore({}, ['config/secrets.example.json']);
  const handler = createIngestHandler({
    config,
    now: Date.now,
    secrets: { get: (name) => (fault.secretsFail ? Promise.reject(new Error('secret store down')) : secrets.get(name)) },
    queue: { send: async () => { if (fault.queueFails) throw new Error('SQS down'); }, delay: async () => undefined, deadLetter: async () => undefined },
  });
  const body = Buffer.from(JSON.stringify(hostawayDelivery('reservation.created')));
  const event = toApiGatewayEvent({ path: '/webhooks/hostaway-demo', connectionId: 'hostaway-demo', headers: { 'content-type': 'application/json', authorization: HOSTAWAY_AUTH }, body, ...(fault.sourceIp ? { sourceIp: fault.sourceIp } : {}) });
  const reply = await handler(fault.functionUrl ? asFunctionUrlEvent(event, fault.functionUrl.path, fault.functionUrl.method) : event, localContext('ingest', 10_000));
  return { status: reply.statusCode ?? 0, body: JSON.parse(reply.body ?? '{}') as { error?: { code: string; message: string } } };
}

/** What a Lambda Function URL delivers for the same request: payload 2.0 without route or path parameters, any method. */
function asFunctionUrlEvent(event: ReturnType<typeof toApiGatewayEvent>, path: string, method = 'POST'): ReturnType<typeof toApiGatewayEvent> {
  const { pathParameters: _routed, ...rest } = event;
  return { ...rest, routeKey: '$default', rawPath: path, requestContext: { ...event.requestContext, routeKey: '$default', http: { ...event.requestContext.http, method, path } } };
}

describe('the README\'s "Webhook answers" table', () => {
  it('has a case below for every code it lists', () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('### Webhook answers'), readme.indexOf('Errors look like'));
    const rows = table.split('\n').filter((line) => /^\| [245]\d\d \|/.test(line));
    const documented = rows.flatMap((row) => [...row.split('|')[2]!.matchAll(/`([a-z_]+)`/g)].map((m) => `${row.split('|')[1]!.trim()} ${m[1]}`));
    expect(documented.length).toBeGreaterThan(15);
    const tested = new Set(cases.map((c) => `${c.status} ${c.code}`));
    expect(documented.filter((row) => !tested.has(row))).toEqual([]);
    // The 202 and 200 rows: below, "still accepts good deliveries" and "acknowledges a test ping".
    expect(rows.map((row) => row.split('|')[1]!.trim())).toEqual(expect.arrayContaining(['202', '200']));
  });
});

describe('bad input gets a clear answer and breaks nothing', () => {
  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.status} ${testCase.code}, nothing queued or stored`, async () => {
      const reply = await testCase.send();
      expect(reply.status).toBe(testCase.status);
      expect(reply.body.error?.code).toBe(testCase.code);
      expect(reply.body.error?.message).toMatch(/^[A-Z].*\.$/); // one readable sentence
      expect(await queueDepth(stack)).toBe(0);
      expect(await tableItemCount(stack)).toBe(0);
    });
  }

  it('names the bad field in the sentence', async () => {
    const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { arrivalDate: 20260710 }));
    expect(reply.body.error?.message).toContain('data.arrivalDate');
  });

  it('acknowledges a test ping and a message event with 200 and the reason, queuing nothing', async () => {
    const ping = await sendHostaway(stack, { data: 'test' });
    expect(ping).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'test_ping' } });
    const message = await sendHostaway(stack, { object: 'conversationMessage', event: 'message.received', data: { id: 1, body: 'hi' } });
    expect(message).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'not_a_reservation_event:message.received' } });
    const genericPing = JSON.stringify({ type: 'ping' });
    expect(await sendGeneric(genericPing, signStandardWebhook(GENERIC_SECRET, 'msg_ping', now(), genericPing))).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await queueDepth(stack)).toBe(0);
  });

  it('accepts deliveries through a Function URL: connection and URL token come from the path', async () => {
    const sent: unknown[] = [];
    const handler = createIngestHandler({
      config: loadConfigFile('config/guest-sync.example.json'),
      now: Date.now,
      secrets: new LocalSecretStore({}, ['config/secrets.example.json']),
      queue: { send: async (messages) => void sent.push(...messages), delay: async () => undefined, deadLetter: async () => undefined },
    });
    const hostaway = toApiGatewayEvent({ path: '/webhooks/hostaway-demo', connectionId: 'hostaway-demo', headers: { 'content-type': 'application/json', authorization: HOSTAWAY_AUTH }, body: Buffer.from(JSON.stringify(hostawayDelivery('reservation.created'))) });
    const smoobuBody = readFileSync('examples/smoobu-newReservation.json');
    const smoobu = toApiGatewayEvent({ path: '/x', connectionId: 'smoobu-demo', headers: { 'content-type': 'application/json' }, body: smoobuBody });
    const replies = await Promise.all([
      handler(asFunctionUrlEvent(hostaway, '/webhooks/hostaway-demo'), localContext('ingest', 10_000)),
      handler(asFunctionUrlEvent(smoobu, '/webhooks/smoobu-demo/demo-smoobu-url-token-7Qm2xW9aLr4Kp8Vz/'), localContext('ingest', 10_000)),
      handler(asFunctionUrlEvent(smoobu, '/webhooks/smoobu-demo/wrong-token'), localContext('ingest', 10_000)),
    ]);
    expect(replies.map((r) => r.statusCode)).toEqual([202, 202, 401]);
    expect(sent.map((m) => (m as { connectionId: string }).connectionId)).toEqual(['hostaway-demo', 'smoobu-demo']);
  });

  it('logs each request with its own correlation keys, never the previous request\'s', async () => {
    // The queue is down, and the generic connection's secret cannot be read: two ERROR lines.
    const secrets = new LocalSecretStore({}, ['config/secrets.example.json']);
    const handler = createIngestHandler({
      config: loadConfigFile('config/guest-sync.example.json'),
      now: Date.now,
      secrets: { get: (name) => (name === 'generic-demo' ? Promise.reject(new Error('secret store down')) : secrets.get(name)) },
      queue: { send: async () => { throw new Error('SQS down'); }, delay: async () => undefined, deadLetter: async () => undefined },
    });
    // Verified (so it has a delivery id), then not queued.
    const verified = toApiGatewayEvent({ path: '/webhooks/hostaway-demo', connectionId: 'hostaway-demo', headers: { 'content-type': 'application/json', authorization: HOSTAWAY_AUTH }, body: Buffer.from(JSON.stringify(hostawayDelivery('reservation.created'))) });
    // Stopped before verification: no delivery id of its own.
    const unverified = toApiGatewayEvent({ path: '/webhooks/generic-demo', connectionId: 'generic-demo', headers: { 'content-type': 'application/json' }, body: Buffer.from(genericBody) });
    const output = captureOutput();
    try {
      for (const event of [verified, unverified]) await handler(event, localContext('ingest', 10_000));
    } finally {
      output.stop();
    }
    const lines = output.text().split('\n').filter((line) => line.startsWith('{') && line.includes('"level":"ERROR"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => [l.message, l.connectionId])).toEqual([['enqueue failed', 'hostaway-demo'], ['connection secret unavailable', 'generic-demo']]);
    expect(lines[0]!.deliveryId).toMatch(/^sha256:/);
    expect(lines[1]!.deliveryId).toBeUndefined();
  });

  it('still accepts good deliveries afterwards, and unknown fields are ignored', async () => {
    const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 799001, somethingNew: { nested: true } }));
    expect(reply.status).toBe(202);
    const signed = await sendGeneric(genericBody, signStandardWebhook(GENERIC_SECRET, 'msg_ok', now(), genericBody));
    expect(signed.status).toBe(202);
    expect(await queueDepth(stack)).toBe(2);
  });
});
