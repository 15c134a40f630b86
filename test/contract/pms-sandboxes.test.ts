import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import { createMewsFetcher } from '../../functions/sources/mews-api.ts';
import { startSandboxServer, type SandboxServer } from '../../infra/local/sandboxes/server.ts';

/** The PMS API sandboxes over HTTP, as the fetchers and a developer use them. */
let server: SandboxServer;
beforeAll(async () => {
  server = await startSandboxServer({ port: 0, smily: { defaultPerPage: 2, now: () => Date.parse('2026-06-01T00:00:00Z') } });
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(() => {
  for (const sandbox of [server.guesty, server.smily, server.lodgify, server.hospitable, server.smoobu, server.apaleo, server.mews, server.cloudbeds]) sandbox.reset();
});

async function call(method: string, path: string, options: { token?: string; body?: string; contentType?: string } = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.contentType ? { 'content-type': options.contentType } : {}) },
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}
const form = (fields: Record<string, string>) => ({ body: new URLSearchParams(fields).toString(), contentType: 'application/x-www-form-urlencoded' });
async function token(prefix: '/guesty/oauth2/token' | '/smily/oauth/token', clientId: string, clientSecret: string) {
  const reply = await call('POST', prefix, form({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'open-api' }));
  expect(reply.status).toBe(200);
  return reply.body!.access_token as string;
}

describe('Guesty Open API sandbox', () => {
  it('grants a token to the demo client only, and every read needs one', async () => {
    expect((await call('POST', '/guesty/oauth2/token', form({ grant_type: 'client_credentials', client_id: 'demo-guesty-client', client_secret: 'wrong' }))).status).toBe(401);
    expect((await call('GET', '/guesty/v1/reservations/6650c1a2f3e4d50012ab34cd')).status).toBe(401);
    const granted = await call('POST', '/guesty/oauth2/token', form({ grant_type: 'client_credentials', client_id: 'demo-guesty-client', client_secret: 'demo-guesty-secret', scope: 'open-api' }));
    expect(granted.body).toMatchObject({ token_type: 'Bearer', expires_in: 86_400, scope: 'open-api' });
    expect(server.guesty.counters().tokenGrants).toBe(1);
  });

  it('serves the example reservation and its guest, and a Guesty-shaped 404', async () => {
    const bearer = await token('/guesty/oauth2/token', 'demo-guesty-client', 'demo-guesty-secret');
    const reservation = await call('GET', '/guesty/v1/reservations/6650c1a2f3e4d50012ab34cd', { token: bearer });
    expect(reservation.body).toMatchObject({ _id: '6650c1a2f3e4d50012ab34cd', listingId: '6421f0b9c8d7e60011223344', guestId: '6650c1a1f3e4d50012ab34c9', checkInDateLocalized: '2026-07-10' });
    expect((await call('GET', '/guesty/v1/guests/6650c1a1f3e4d50012ab34c9', { token: bearer })).body).toMatchObject({ fullName: 'Maria Lindqvist' });
    expect(await call('GET', '/guesty/v1/reservations/nope', { token: bearer })).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('fails the next N matching reads over HTTP, then answers again; fail-always lasts until the faults are cleared', async () => {
    const bearer = await token('/guesty/oauth2/token', 'demo-guesty-client', 'demo-guesty-secret');
    const path = '/guesty/v1/guests/6650c1a1f3e4d50012ab34c9';
    expect((await call('POST', '/_sandbox/guesty/fail-next', { body: JSON.stringify({ status: 500, count: 2, pathIncludes: '/v1/guests/' }), contentType: 'application/json' })).status).toBe(200);
    expect([(await call('GET', path, { token: bearer })).status, (await call('GET', path, { token: bearer })).status, (await call('GET', path, { token: bearer })).status]).toEqual([500, 500, 200]);

    await call('POST', '/_sandbox/guesty/fail-always', { body: JSON.stringify({ status: 503, retryAfter: 7 }), contentType: 'application/json' });
    const failing = await Promise.all([1, 2, 3].map(() => call('GET', path, { token: bearer })));
    expect(failing.map((r) => [r.status, r.headers.get('retry-after')])).toEqual([[503, '7'], [503, '7'], [503, '7']]);
    expect((await call('DELETE', '/_sandbox/guesty/faults')).status).toBe(204);
    expect((await call('GET', path, { token: bearer })).status).toBe(200);
    const log = (await call('GET', '/_sandbox/guesty/requests')).body!.requests as { route: string; status: number }[];
    expect(log.map((e) => e.route)).toContain('GET /v1/guests/:id');
  });

  it('takes reservations and guests through its data controls', async () => {
    const bearer = await token('/guesty/oauth2/token', 'demo-guesty-client', 'demo-guesty-secret');
    await call('PUT', '/_sandbox/guesty/reservations/r-new', { body: JSON.stringify({ listingId: 'L', status: 'inquiry' }), contentType: 'application/json' });
    expect((await call('GET', '/guesty/v1/reservations/r-new', { token: bearer })).body).toEqual({ _id: 'r-new', listingId: 'L', status: 'inquiry' });
    expect((await call('PUT', '/_sandbox/guesty/guests/g-new', { body: '[1]', contentType: 'application/json' })).status).toBe(400);
  });
});

describe('Smily API sandbox', () => {
  it('wraps records the API v3 way and answers 404 for unknown ones', async () => {
    const bearer = await token('/smily/oauth/token', 'demo-smily-client', 'demo-smily-secret');
    const booking = await call('GET', '/smily/api/v3/bookings/81234567', { token: bearer });
    expect(booking.body).toMatchObject({ bookings: [{ id: 81234567, start_at: '2026-07-10T14:00:00Z', links: { rental: 7731, client: 995923932 } }] });
    expect((await call('GET', '/smily/api/v3/clients/995923932', { token: bearer })).body).toMatchObject({ clients: [{ id: 995923932, fullname: 'Maria Lindqvist' }] });
    expect((await call('GET', '/smily/api/v3/bookings/1', { token: bearer })).status).toBe(404);
  });

  it('lists a client’s bookings ending after now, canceled ones only on request, in pages linked by rel="next"', async () => {
    const bearer = await token('/smily/oauth/token', 'demo-smily-client', 'demo-smily-secret');
    const booking = (id: number, start: string, end: string, status = 'Booked', client = 42) =>
      server.smily.putBooking({ id, status, start_at: start, end_at: end, updated_at: '2026-05-01T00:00:00Z', links: { rental: 7731, client } });
    booking(1, '2026-05-01T14:00:00Z', '2026-05-03T10:00:00Z'); // ended before "now" (1 June)
    booking(2, '2026-06-10T14:00:00Z', '2026-06-12T10:00:00Z');
    booking(3, '2026-07-10T14:00:00Z', '2026-07-12T10:00:00Z');
    booking(4, '2026-08-10T14:00:00Z', '2026-08-12T10:00:00Z', 'Canceled');
    booking(5, '2026-09-10T14:00:00Z', '2026-09-12T10:00:00Z', 'Booked', 43);
    const first = await call('GET', '/smily/api/v3/bookings?client_id=42', { token: bearer });
    expect((first.body!.bookings as { id: number }[]).map((b) => b.id)).toEqual([2, 3]);
    expect(first.headers.get('x-total-pages')).toBe('1');
    const withCanceled = await call('GET', '/smily/api/v3/bookings?client_id=42&include_canceled=true', { token: bearer });
    expect((withCanceled.body!.bookings as { id: number }[]).map((b) => b.id)).toEqual([2, 3]);
    const next = withCanceled.headers.get('link');
    expect(next).toMatch(/rel="next"/);
    const url = /<([^>]+)>/.exec(next!)![1]!;
    const second = await call('GET', new URL(url).pathname + new URL(url).search, { token: bearer });
    expect((second.body!.bookings as { id: number }[]).map((b) => b.id)).toEqual([4]);
    expect(second.headers.get('link')).toBeNull();
    const past = await call('GET', '/smily/api/v3/bookings?client_id=42&from=20260101', { token: bearer });
    expect((past.body!.bookings as { id: number }[]).map((b) => b.id)).toEqual([1, 2]);
  });

  it('forgets a deleted booking (a destroyed one answers 404)', async () => {
    const bearer = await token('/smily/oauth/token', 'demo-smily-client', 'demo-smily-secret');
    expect((await call('DELETE', '/_sandbox/smily/bookings/81234567')).status).toBe(204);
    expect((await call('GET', '/smily/api/v3/bookings/81234567', { token: bearer })).status).toBe(404);
  });
});

/** Lodgify, Hospitable and Smoobu: a static key each, answered the way each vendor documents. */
describe('key-authenticated PMS API sandboxes', () => {
  const get = async (path: string, headers: Record<string, string>) => {
    const response = await fetch(`${server.url}${path}`, { headers });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('Lodgify: X-ApiKey; the API v2 booking shape; errors as {message, code}', async () => {
    expect(await get('/lodgify/v2/reservations/bookings/5512034', { 'x-apikey': 'wrong' })).toMatchObject({ status: 401, body: { code: 'NotAuthorized' } });
    const ok = await get('/lodgify/v2/reservations/bookings/5512034', { 'x-apikey': 'demo-lodgify-api-key' });
    expect(ok).toMatchObject({ status: 200, body: { id: 5512034, property_id: 331207, arrival: '2026-07-10', check_in: { time: '15:00:00' }, guest: { name: 'Maria Lindqvist' }, rooms: [{ guest_breakdown: { adults: 2, children: 1 } }] } });
    expect(ok.body).not.toHaveProperty('date_arrival'); // the webhook's name, not the API's
    expect(await get('/lodgify/v2/reservations/bookings/1', { 'x-apikey': 'demo-lodgify-api-key' })).toMatchObject({ status: 404, body: { code: 'NotFound' } });
  });

  it('Hospitable: a Bearer token; guest and properties only when included', async () => {
    const path = '/hospitable/v2/reservations/4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
    expect(await get(path, { authorization: 'Bearer wrong' })).toMatchObject({ status: 401, body: { reason_phrase: 'Unauthenticated' } });
    const auth = { authorization: 'Bearer demo-hospitable-personal-access-token' };
    const bare = await get(path, auth);
    expect(bare.status).toBe(200);
    expect(bare.body.data).not.toHaveProperty('guest');
    expect(bare.body.data).not.toHaveProperty('properties');
    expect(await get(`${path}?include=guest,properties`, auth)).toMatchObject({ body: { data: { guest: { first_name: 'Maria' }, properties: [{ id: '550e8400-e29b-41d4-a716-446655440000' }] } } });
    expect(await get(`${path}?include[]=guest`, auth)).toMatchObject({ body: { data: { guest: { first_name: 'Maria' } } } });
    expect(await get('/hospitable/v2/reservations/nope', auth)).toMatchObject({ status: 404, body: { status_code: 404 } });
  });

  it('Smoobu: Api-Key; the webhook data shape; its documented auth-failure body', async () => {
    expect(await get('/smoobu/api/reservations/119719486', {})).toMatchObject({ status: 401, body: { title: 'Error occurred', detail: 'verification error' } });
    expect(await get('/smoobu/api/reservations/119719486', { 'api-key': 'demo-smoobu-api-key' })).toMatchObject({ status: 200, body: { id: 119719486, apartment: { id: 505200 }, 'check-in': '15:00' } });
  });

  it('share the fault and data controls', async () => {
    await fetch(`${server.url}/_sandbox/smoobu/fail-next`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 503, count: 1 }) });
    expect((await get('/smoobu/api/reservations/119719486', { 'api-key': 'demo-smoobu-api-key' })).status).toBe(503);
    await fetch(`${server.url}/_sandbox/lodgify/bookings/77`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ property_id: 1, status: 'Booked' }) });
    expect(await get('/lodgify/v2/reservations/bookings/77', { 'x-apikey': 'demo-lodgify-api-key' })).toMatchObject({ status: 200, body: { id: 77 } });
    expect((await fetch(`${server.url}/_sandbox/lodgify/bookings/77`, { method: 'DELETE' })).status).toBe(204);
    expect((await get('/lodgify/v2/reservations/bookings/77', { 'x-apikey': 'demo-lodgify-api-key' })).status).toBe(404);
    expect(server.lodgify.counters().byRoute['GET /v2/reservations/bookings/:id']).toBe(2);
  });
});

/** apaleo, Mews and Cloudbeds: their auth, documented shapes and error bodies, paging and a 429 with Retry-After. */
describe('hotel PMS API sandboxes', () => {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };

  it('apaleo: client credentials in HTTP Basic, a bearer read, 404 as {messages}', async () => {
    const basic = (secret: string) => `Basic ${Buffer.from(`demo-apaleo-client:${secret}`).toString('base64')}`;
    const grant = (secret: string) => fetch(`${server.url}/apaleo/connect/token`, { method: 'POST', headers: { authorization: basic(secret), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=reservations.read' });
    expect((await grant('wrong')).status).toBe(401);
    const token = ((await (await grant('demo-apaleo-secret')).json()) as { access_token: string }).access_token;
    expect((await call('GET', '/apaleo/booking/v1/reservations/XPGMSXGF-1')).status).toBe(401);
    expect(await call('GET', '/apaleo/booking/v1/reservations/XPGMSXGF-1', { token })).toMatchObject({ status: 200, body: { id: 'XPGMSXGF-1', property: { id: 'HFTF-AADS' }, status: 'Confirmed', primaryGuest: { lastName: 'Lindqvist' } } });
    expect(await call('GET', '/apaleo/booking/v1/reservations/NOPE-1', { token })).toMatchObject({ status: 404, body: { messages: [expect.any(String)] } });
  });

  it('Mews: tokens in the body bound to their enterprise, Limitation required, cursor paging, an unknown id is an empty list', async () => {
    const auth = { ClientToken: 'demo-mews-client-token', AccessToken: 'demo-mews-access-token', Client: 'test 1.0' };
    expect(await post('/mews/api/connector/v1/reservations/getAll/2023-06-06', { ...auth, AccessToken: 'wrong', ReservationIds: ['x'], Limitation: { Count: 1 } })).toMatchObject({ status: 401, body: { Message: expect.any(String) } });
    expect(await post('/mews/api/connector/v1/reservations/getAll/2023-06-06', { ...auth, ReservationIds: ['x'] })).toMatchObject({ status: 400 });
    expect(await post('/mews/api/connector/v1/reservations/getAll/2023-06-06', { ...auth, ReservationIds: ['x'], Limitation: { Count: 10 } })).toMatchObject({ status: 200, body: { Reservations: [], Cursor: null } });
    for (const id of ['b1', 'b2', 'b3']) server.mews.reservations.put({ Id: id, EnterpriseId: '851df8c8-90f2-4c4a-8e01-a4fc46b25178', AccountId: 'acc', ScheduledEndUtc: '2026-08-01T09:00:00Z' });
    const first = await post('/mews/api/connector/v1/reservations/getAll/2023-06-06', { ...auth, AccountIds: ['acc'], Limitation: { Count: 2 } });
    expect(first.body).toMatchObject({ Reservations: [{ Id: 'b1' }, { Id: 'b2' }], Cursor: 'b2' });
    const second = await post('/mews/api/connector/v1/reservations/getAll/2023-06-06', { ...auth, AccountIds: ['acc'], Limitation: { Count: 2, Cursor: 'b2' } });
    expect(second.body).toMatchObject({ Reservations: [{ Id: 'b3' }], Cursor: null });
    expect(await post('/mews/api/connector/v1/customers/getAll', { ...auth, CustomerIds: ['fadd5bb6-b428-45d5-94f8-fd0d89fece6d'], Extent: { Customers: true }, Limitation: { Count: 1 } })).toMatchObject({ body: { Customers: [{ LastName: 'Lindqvist' }] } });
    expect(await post('/mews/api/connector/v1/ageCategories/getAll', { ...auth, Limitation: { Count: 10 } })).toMatchObject({ body: { AgeCategories: [{ Classification: 'Adult' }, { Classification: 'Child' }] } });
  });

  it('Cloudbeds: x-api-key; {success, data}; an unknown id is success: false; its documented 401', async () => {
    const get = async (query: string, key?: string) => {
      const response = await fetch(`${server.url}/cloudbeds/api/v1.3/getReservation?${query}`, { headers: key ? { 'x-api-key': key } : {} });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await get('reservationID=7061304407766', 'cbat_wrong')).toMatchObject({ status: 401, body: { error: 'access_denied' } });
    expect(await get('reservationID=7061304407766', 'cbat_demo_cloudbeds_api_key')).toMatchObject({ status: 200, body: { success: true, data: { reservationID: '7061304407766', assigned: [{ adults: '2' }] } } });
    expect(await get('reservationID=nope', 'cbat_demo_cloudbeds_api_key')).toMatchObject({ status: 200, body: { success: false } });
  });

  it('answer a 429 with Retry-After when told to, then recover', async () => {
    await fetch(`${server.url}/_sandbox/cloudbeds/fail-next`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 429, count: 1, retryAfter: 2 }) });
    const limited = await fetch(`${server.url}/cloudbeds/api/v1.3/getReservation?reservationID=7061304407766`, { headers: { 'x-api-key': 'cbat_demo_cloudbeds_api_key' } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect((await fetch(`${server.url}/cloudbeds/api/v1.3/getReservation?reservationID=7061304407766`, { headers: { 'x-api-key': 'cbat_demo_cloudbeds_api_key' } })).status).toBe(200);
  });
});

describe('the Mews reader against its sandbox', () => {
  it('follows the cursor through a customer with more reservations than one page', async () => {
    const enterprise = '851df8c8-90f2-4c4a-8e01-a4fc46b25178';
    const config = parseConfig({
      connections: { m: { pms: 'mews', secret: 'm', api: { baseUrl: `${server.url}/mews`, credentials: 'm-api', requestsPerSecond: 100 }, properties: { [enterprise]: { timeZone: 'Europe/Stockholm', targets: {} } } } },
      targets: {},
    });
    const secrets = { get: async () => ({ clientToken: 'demo-mews-client-token', accessTokens: { [enterprise]: 'demo-mews-access-token' } }) };
    for (let i = 0; i < 150; i++) {
      server.mews.reservations.put({ Id: `r${String(i).padStart(3, '0')}`, EnterpriseId: enterprise, AccountId: 'many', State: 'Confirmed', ScheduledStartUtc: '2026-08-01T13:00:00Z', ScheduledEndUtc: '2026-08-03T09:00:00Z', UpdatedUtc: '2026-05-01T00:00:00Z' });
    }
    // A clock that runs (the client paces itself by it), standing on 1 July 2026.
    const offset = Date.parse('2026-07-01T00:00:00Z') - Date.now();
    const fetcher = createMewsFetcher('m', config.connections.m!, { config, secrets, store: {} as never, now: () => Date.now() + offset });
    const reservations = await fetcher.fetchClientReservations!({ v: 2, kind: 'client_ref', connectionId: 'm', deliveryId: 'd', receivedAt: 0, clientId: 'many', hints: { enterpriseId: enterprise } });
    expect(new Set(reservations.map((r) => r.reservationId)).size).toBe(150);
    expect(server.mews.counters().byRoute['POST /api/connector/v1/reservations/getAll/2023-06-06']).toBe(2);
  });
});
