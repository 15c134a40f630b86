import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../infra/local/sandboxes/server.ts';

/** Contract tests of the RecepAI, Kasify and HostelMate sandboxes against their documented behaviour, over HTTP. */

let server: SandboxServer;
let clockMs = Date.parse('2026-05-01T12:00:00Z');
beforeAll(async () => {
  const now = () => clockMs;
  server = await startSandboxServer({ port: 0, recepai: { now, rateLimit: { perMinute: 120 } }, kasify: { now, perMinute: 100 }, hostelmate: { now, rateLimit: { perMinute: 120 } } });
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(() => {
  clockMs += 120_000; // fresh rate windows
  server.recepai.reset();
  server.kasify.reset();
  server.hostelmate.reset();
});

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}
async function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

describe('RecepAI sandbox', () => {
  const LIVE = { authorization: 'Bearer pms_live_5eas1de0000000000000000000000000' };
  const TEST = { authorization: 'Bearer pms_test_5eas1de0000000000000000000000000' };
  const base = '/recepai/api/pms/v1/seaside-hotel/guests';
  const guest = { pmsGuestId: 'RES-1', lastName: 'Garcia', roomNumber: '301', checkInDate: '2026-05-01', checkOutDate: '2026-05-03' };
  const post = (op: string, body: unknown, key: string = randomUUID(), auth = LIVE) => call('POST', `${base}/${op}`, { ...auth, 'idempotency-key': key }, body);

  it('answers 401 UNAUTHORIZED without a valid key, and KEY_REVOKED after a revocation, with the documented error body', async () => {
    const none = await call('GET', base);
    expect(none).toMatchObject({ status: 401, body: { status: 'error', code: 'UNAUTHORIZED', requestId: expect.stringMatching(/^req_/) } });
    server.recepai.revokeKeys('seaside-hotel');
    expect((await call('GET', base, LIVE)).body.code).toBe('KEY_REVOKED');
    expect((await call('GET', base, TEST)).body.code).toBe('KEY_REVOKED');
  });

  it('checks in (200 created), refuses a second active guest with the same pmsGuestId, and lists active guests', async () => {
    expect(await post('checkin', guest)).toMatchObject({ status: 200, body: { status: 'created', pmsGuestId: 'RES-1', roomNumber: '301' } });
    expect(await post('checkin', guest)).toMatchObject({ status: 409, body: { code: 'DUPLICATE_GUEST' } });
    const list = await call('GET', base, LIVE);
    expect(list.body).toMatchObject({ count: 1, guests: [{ pmsGuestId: 'RES-1', source: 'pms', lastName: 'Garcia' }] });
  });

  it('requires an Idempotency-Key on POST; the same key and body replays the answer, another body is refused', async () => {
    expect(await call('POST', `${base}/checkin`, LIVE, guest)).toMatchObject({ status: 400, body: { code: 'FIELD_REQUIRED', field: 'Idempotency-Key' } });
    const first = await post('checkin', guest, 'k-1');
    const again = await post('checkin', guest, 'k-1');
    expect(again.status).toBe(200);
    expect(again.body.guestId).toBe(first.body.guestId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(server.recepai.activeGuests()).toHaveLength(1);
    expect(await post('checkin', { ...guest, roomNumber: '302' }, 'k-1')).toMatchObject({ status: 422, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });
  });

  it('updates only the given fields and reports the changes; a move into an occupied room is ROOM_OCCUPIED with the occupant', async () => {
    await post('checkin', guest);
    await post('checkin', { ...guest, pmsGuestId: 'RES-2', lastName: 'Berg', roomNumber: '305' });
    const moved = await post('update', { pmsGuestId: 'RES-1', roomNumber: '302', phone: '+905559876543' });
    expect(moved.body).toMatchObject({ status: 'updated', changes: { roomNumber: { from: '301', to: '302' }, phone: { from: null, to: '+905559876543' } } });
    expect((await post('update', { pmsGuestId: 'RES-1', roomNumber: '302' })).body.changes).toEqual({});
    expect(await post('update', { pmsGuestId: 'RES-1', roomNumber: '305' })).toMatchObject({ status: 409, body: { code: 'ROOM_OCCUPIED', currentGuest: { pmsGuestId: 'RES-2', lastName: 'Berg' } } });
    expect(await post('update', { pmsGuestId: 'NOPE', lastName: 'X' })).toMatchObject({ status: 404, body: { code: 'GUEST_NOT_FOUND' } });
  });

  it('validates with the documented codes and the field', async () => {
    expect((await post('checkin', { ...guest, lastName: undefined })).body).toMatchObject({ code: 'FIELD_REQUIRED', field: 'lastName' });
    expect((await post('checkin', { ...guest, roomNumber: '999' })).body).toMatchObject({ code: 'ROOM_NOT_FOUND', field: 'roomNumber' });
    expect((await post('checkin', { ...guest, checkOutDate: '03/05/2026' })).body).toMatchObject({ code: 'INVALID_DATE_FORMAT', field: 'checkOutDate' });
    expect((await post('checkin', { ...guest, phone: '0701234567' })).body).toMatchObject({ code: 'INVALID_PHONE_FORMAT', field: 'phone' });
    expect((await call('POST', `${base}/checkin`, { ...LIVE, 'idempotency-key': 'x' }, '{nope')).body).toMatchObject({ code: 'INVALID_JSON' });
  });

  it('checks out idempotently by design', async () => {
    await post('checkin', guest);
    expect((await post('checkout', { pmsGuestId: 'RES-1' })).body).toMatchObject({ status: 'checked_out', roomNumber: '301' });
    expect(await post('checkout', { pmsGuestId: 'RES-1' })).toMatchObject({ status: 200, body: { status: 'already_checked_out' } });
  });

  it('a test key validates fully but stores nothing', async () => {
    expect((await post('checkin', guest, randomUUID(), TEST)).body).toMatchObject({ status: 'created', _sandbox: true, guestId: expect.stringMatching(/^test_/) });
    expect(server.recepai.guests()).toEqual([]);
  });

  it('rate-limits per key with 429 RATE_LIMITED and Retry-After (limit configurable)', async () => {
    server.recepai.setRateLimit({ perSecond: 3 });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await call('GET', base, LIVE));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(replies[3]!.body.code).toBe('RATE_LIMITED');
    expect(Number(replies[3]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('Kasify sandbox', () => {
  const AUTH = { authorization: 'Bearer kas_pat_demo_0000000000000000000000000000' };
  const property = '6f1d2c1e-5b7a-4c1e-9a51-2f6f3b8c9d01';
  const booking = { from: '2026-06-01', to: '2026-06-04', channel: 'guest-sync', channel_id: 'c:1', guest_last_name: 'Lind' };

  it('answers 401 without a valid token, in the error envelope', async () => {
    expect(await call('GET', '/kasify/v1/properties')).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  });

  it('does not deduplicate creates; lists by channel and window; patches and cancels via status', async () => {
    const a = await call('POST', `/kasify/v1/properties/${property}/bookings`, AUTH, booking);
    const b = await call('POST', `/kasify/v1/properties/${property}/bookings`, AUTH, booking);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    const listed = await call('GET', `/kasify/v1/properties/${property}/bookings?channel=guest-sync&from=2026-06-02&to=2026-06-02&size=100`, AUTH);
    expect(listed.body).toMatchObject({ total: 2, page: 0, size: 100 });
    const outside = await call('GET', `/kasify/v1/properties/${property}/bookings?from=2026-07-01&to=2026-07-02`, AUTH);
    expect(outside.body.total).toBe(0);
    expect((await call('PATCH', `/kasify/v1/bookings/${a.body.id}`, AUTH, { status: 'cancelled' })).body).toMatchObject({ status: 'cancelled', from: '2026-06-01' });
    expect(await call('PATCH', '/kasify/v1/bookings/nope', AUTH, { status: 'cancelled' })).toMatchObject({ status: 404 });
  });

  it('refuses invalid fields with 422 validation_error naming the field', async () => {
    expect((await call('POST', `/kasify/v1/properties/${property}/bookings`, AUTH, { ...booking, guest_phone: '0701' })).body).toMatchObject({ error: { code: 'validation_error', field: 'guest_phone' } });
    expect((await call('POST', `/kasify/v1/properties/${property}/bookings`, AUTH, { ...booking, to: '2026-05-30' })).status).toBe(422);
  });

  it('allows 100 requests per rolling minute per token, then 429 with Retry-After', async () => {
    let last: Reply | undefined;
    for (let i = 0; i < 101; i++) last = await call('GET', '/kasify/v1/properties', AUTH);
    expect(last).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    clockMs += 60_000;
    expect((await call('GET', '/kasify/v1/properties', AUTH)).status).toBe(200);
  });
});

describe('HostelMate sandbox', () => {
  const KEY = { 'x-api-key': 'hm_live_demo000000000000000000000000' };
  const room = '3d6f1a2b-8c4e-4f5a-9b7c-0e1d2f3a4b5c';
  const create = (id = randomUUID(), email = 'ana@example.com') => ({ booking: { id, dates: [{ date: '2026-06-01', amount: 52000 }] }, room, guest: { first_name: 'Ana', last_name: 'Lopez', email } });
  const write = (method: string, path: string, body: unknown, key: string = randomUUID()) => call(method, `/hostelmate/api/v1/client${path}`, { ...KEY, 'idempotency-key': key }, body);

  it('requires X-API-Key and refuses a disallowed Origin', async () => {
    expect(await call('GET', '/hostelmate/api/v1/client/bookings')).toMatchObject({ status: 401 });
    expect(await call('GET', '/hostelmate/api/v1/client/bookings', { ...KEY, origin: 'https://evil.example' })).toMatchObject({ status: 403, body: { error: { code: 'origin_not_allowed' } } });
  });

  it('requires an Idempotency-Key on POST and PATCH; same key and body replays, another body is refused', async () => {
    expect(await call('POST', '/hostelmate/api/v1/client/bookings', KEY, create())).toMatchObject({ status: 400, body: { error: { code: 'bad_request', message: 'Idempotency-Key header is required' } } });
    const body = create();
    const key = randomUUID();
    const first = await write('POST', '/bookings', body, key);
    const again = await write('POST', '/bookings', body, key);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(server.hostelmate.bookings()).toHaveLength(1);
    expect(await write('POST', '/bookings', create(), key)).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
  });

  it('creates the guest with the booking; the booking\'s guest.id is not the guestId, which email search finds', async () => {
    const id = randomUUID();
    const made = await write('POST', '/bookings', create(id));
    expect(made.body.booking).toMatchObject({ id, status: 'confirmed', total: 52000 });
    const found = await call('GET', '/hostelmate/api/v1/client/guests?email=ana@example.com', KEY);
    const guestId = found.body.guests[0].guestId;
    expect(guestId).not.toBe(made.body.booking.guest.id);
    expect(await call('GET', `/hostelmate/api/v1/client/guests/${made.body.booking.guest.id}`, KEY)).toMatchObject({ status: 404, body: { error: { code: 'guest_not_found' } } });
    expect((await write('PATCH', `/guests/${guestId}`, { guest: { phone: '+447712345678', country_code: 'GB' } })).body.guest).toMatchObject({ phone: '+447712345678', country_code: 'GB', first_name: 'Ana' });
    expect((await write('PATCH', `/guests/${guestId}`, { guest: { country_code: 'XX' } })).body).toMatchObject({ error: { code: 'invalid_country_code' } });
    expect((await write('PATCH', `/guests/${guestId}`, { guest: { date_of_birth: '1/2/90' } })).body).toMatchObject({ error: { code: 'invalid_date_format' } });
  });

  it('refuses a repeated booking.id, a non-v4 id and an email that belongs to another guest', async () => {
    const id = randomUUID();
    await write('POST', '/bookings', create(id));
    expect(await write('POST', '/bookings', create(id, 'other@example.com'))).toMatchObject({ status: 409, body: { error: { code: 'booking_exists' } } });
    expect(await write('POST', '/bookings', create('00000000-0000-1000-8000-000000000000', 'x@example.com'))).toMatchObject({ status: 422, body: { error: { field: 'booking.id' } } });
    expect(await write('POST', '/bookings', create(randomUUID()))).toMatchObject({ status: 409, body: { error: { code: 'email_conflict' } } });
  });

  it('PATCH replaces the dates (total recomputed); POST /update cancels', async () => {
    const id = randomUUID();
    await write('POST', '/bookings', create(id));
    const patched = await write('PATCH', `/bookings/${id}`, { booking: { dates: [{ date: '2026-06-02', amount: 100 }, { date: '2026-06-03', amount: 100 }] } });
    expect(patched.body.booking).toMatchObject({ total: 200, stay_dates: [{ date: '2026-06-02' }, { date: '2026-06-03' }] });
    expect((await write('POST', `/bookings/${id}/update`, { status: 'cancelled' })).body.booking.status).toBe('cancelled');
  });

  it('rate-limits per key (and caller IP) with 429 and Retry-After (limit configurable)', async () => {
    server.hostelmate.setRateLimit({ perSecond: 3 });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await call('GET', '/hostelmate/api/v1/client/bookings', KEY));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(replies[3]!.headers.get('retry-after')).toBe('1');
  });
});

describe('sandbox controls over HTTP', () => {
  it('switch an outage on and off, and show state, counters and requests', async () => {
    expect((await call('POST', '/_sandbox/kasify/outage', {}, { status: 503 })).status).toBe(204);
    const down = await call('GET', '/kasify/v1/properties', { authorization: 'Bearer kas_pat_demo_0000000000000000000000000000' });
    expect(down).toMatchObject({ status: 503, body: { error: { code: 'service_unavailable' } } });
    await call('POST', '/_sandbox/kasify/outage', {}, { status: null });
    expect((await call('GET', '/kasify/v1/properties', { authorization: 'Bearer kas_pat_demo_0000000000000000000000000000' })).status).toBe(200);
    expect((await call('GET', '/_sandbox/kasify/counters')).body).toMatchObject({ requests: 2, byRoute: { 'GET /properties': 2 } });

    await call('POST', '/_sandbox/recepai/faults', {}, { status: 500, count: 1 });
    expect((await call('GET', '/recepai/api/pms/v1/seaside-hotel/guests', { authorization: 'Bearer pms_live_5eas1de0000000000000000000000000' })).body).toMatchObject({ code: 'INTERNAL_ERROR' });
    expect((await call('GET', '/_sandbox/recepai/requests')).body.requests).toEqual([expect.objectContaining({ route: 'GET /:slug/guests', status: 500 })]);
    expect((await call('GET', '/_sandbox/recepai/guests')).body).toEqual({ guests: [] });

    expect((await call('POST', '/_sandbox/hostelmate/rate-limit', {}, { perSecond: 1 })).status).toBe(204);
    const key = { 'x-api-key': 'hm_live_demo000000000000000000000000' };
    expect((await call('GET', '/hostelmate/api/v1/client/bookings', key)).status).toBe(200);
    expect((await call('GET', '/hostelmate/api/v1/client/bookings', key)).status).toBe(429);
    expect((await call('GET', '/_sandbox/hostelmate/bookings')).body).toEqual({ bookings: [] });
  });
});
