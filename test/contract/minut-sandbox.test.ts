import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MinutGuest, MinutSandboxOptions } from '../../infra/local/sandboxes/minut.ts';
import { startSandboxServer, type SandboxServer } from '../../infra/local/sandboxes/server.ts';

/** Contract tests of the Minut sandbox, over real HTTP with global fetch. */

const CLIENT_ID = 'demo-minut-client';
const CLIENT_SECRET = 'demo-minut-secret';
const SEASIDE = 'home_demo_seaside';
const CITY = 'home_demo_city';
const USER_AGENT = 'guest-sync-contract-test/1.0';

const stay = { checkin_time: '2026-06-01T15:00:00Z', checkout_time: '2026-06-05T11:00:00Z' };
const jane = { name: 'Jane Doe', email: 'jane@example.com', phone_number: '+14155234567', ...stay };

interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** One sandbox on a free port with its own clock; tests move the clock explicitly. */
class Harness {
  clockMs = Date.parse('2026-05-01T12:00:00Z');
  server!: SandboxServer;

  async start(minut: MinutSandboxOptions = {}): Promise<this> {
    this.server = await startSandboxServer({ port: 0, minut: { now: () => this.clockMs, ...minut } });
    return this;
  }

  get apiBase(): string {
    return `${this.server.url}/minut/v8`;
  }

  requestToken(
    credentials = `${CLIENT_ID}:${CLIENT_SECRET}`,
    form = 'grant_type=client_credentials&response_type=token',
  ): Promise<Reply> {
    return send(`${this.apiBase}/oauth/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: form,
    });
  }

  async token(): Promise<string> {
    const reply = await this.requestToken();
    expect(reply.status).toBe(200);
    return String(reply.body.access_token);
  }

  /** Calls `/minut/v8<path>` with a bearer token (none when `token` is undefined). */
  call<T = Record<string, unknown>>(token: string | undefined, method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return send<T>(`${this.apiBase}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  }

  control<T = Record<string, unknown>>(method: string, path: string, body?: string): Promise<Reply<T>> {
    return send<T>(`${this.server.url}/_sandbox/minut${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      ...(body !== undefined && { body }),
    });
  }
}

async function send<T = Record<string, unknown>>(url: string, init: RequestInit): Promise<Reply<T>> {
  const response = await fetch(url, {
    ...init,
    headers: { 'User-Agent': USER_AGENT, ...(init.headers as Record<string, string> | undefined) },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

describe('Minut sandbox over HTTP', () => {
  const h = new Harness();
  let token: string;

  beforeAll(async () => {
    // Rate limiting off here so bursts of setup calls never trip it; its own block turns it on.
    await h.start({ rateLimit: null, tokenTtlSeconds: 600 });
  });
  afterAll(async () => {
    await h.server.stop();
  });
  beforeEach(async () => {
    h.server.minut.reset();
    token = await h.token();
  });

  describe('server', () => {
    it('answers /health and 404s unknown prefixes with JSON', async () => {
      expect(await send(`${h.server.url}/health`, {})).toMatchObject({ status: 200, body: { status: 'ok' } });
      const unknown = await send(`${h.server.url}/kasify-nope/v1/guests`, {});
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toContain('application/json');
      expect(unknown.body.message).toEqual(expect.any(String));
    });

    it('serves Minut only under /minut/v8', async () => {
      expect((await h.call(token, 'GET', '/homes')).status).toBe(200);
      const v7 = await send(`${h.server.url}/minut/v7/homes`, { headers: { Authorization: `Bearer ${token}` } });
      expect(v7.status).toBe(404);
    });
  });

  describe('POST /oauth/token', () => {
    it('grants an opaque bearer token for valid client credentials', async () => {
      const reply = await h.requestToken();
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600 });
      expect(reply.body.access_token).not.toBe(token);
      expect(h.server.minut.counters().tokenGrants).toBe(2);
    });

    it('rejects a wrong secret, an unknown client and missing Basic auth with 401 invalid_client', async () => {
      for (const credentials of [`${CLIENT_ID}:wrong`, `someone-else:${CLIENT_SECRET}`]) {
        const reply = await h.requestToken(credentials);
        expect(reply.status).toBe(401);
        expect(reply.body.error).toBe('invalid_client');
      }
      const noAuth = await send(`${h.apiBase}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&response_type=token',
      });
      expect(noAuth.status).toBe(401);
      expect(noAuth.body.error).toBe('invalid_client');
      expect(h.server.minut.counters().tokenGrants).toBe(1);
    });

    it('rejects other grants with 400 unsupported_grant_type and JSON bodies with invalid_request', async () => {
      const password = await h.requestToken(undefined, 'grant_type=password&username=a&password=b');
      expect(password).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
      const json = await send(`${h.apiBase}/oauth/token`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      });
      expect(json).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    });
  });

  describe('bearer authentication', () => {
    it('answers 401 with a message and no error_key without a token or with an unknown one', async () => {
      for (const candidate of [undefined, 'not-a-real-token']) {
        const reply = await h.call(candidate, 'GET', `/homes/${SEASIDE}/guests`);
        expect(reply.status).toBe(401);
        expect(reply.body.message).toEqual(expect.any(String));
        expect(reply.body).not.toHaveProperty('error_key');
      }
    });

    it('expires tokens after expires_in seconds on the sandbox clock', async () => {
      h.clockMs += 599_000;
      expect((await h.call(token, 'GET', '/homes')).status).toBe(200);
      h.clockMs += 1_000;
      const expired = await h.call(token, 'GET', '/homes');
      expect(expired.status).toBe(401);
      expect(expired.body).not.toHaveProperty('error_key');
      expect((await h.call(await h.token(), 'GET', '/homes')).status).toBe(200);
    });
  });

  describe('homes', () => {
    it('lists homes with paging', async () => {
      const all = await h.call(token, 'GET', '/homes?limit=30');
      expect(all.status).toBe(200);
      expect(all.body).toEqual({
        homes: [
          { home_id: SEASIDE, name: 'Seaside Loft', timezone: 'Europe/Stockholm' },
          { home_id: CITY, name: 'City Flat', timezone: 'Europe/Berlin' },
          { home_id: 'home_demo_lodgify', name: 'Lodgify demo property', timezone: 'Europe/Stockholm' },
          { home_id: 'home_demo_hospitable', name: 'Hospitable demo property', timezone: 'Europe/Stockholm' },
          { home_id: 'home_demo_smoobu', name: 'Smoobu demo apartment', timezone: 'Europe/Stockholm' },
          { home_id: 'home_demo_apaleo', name: 'apaleo demo hotel', timezone: 'Europe/Berlin' },
          { home_id: 'home_demo_mews', name: 'Mews demo hotel', timezone: 'Europe/Stockholm' },
          { home_id: 'home_demo_cloudbeds', name: 'Cloudbeds demo hotel', timezone: 'America/New_York' },
        ],
        paging: { total_count: 8, limit: 30, offset: 0 },
      });
      const second = await h.call(token, 'GET', '/homes?limit=1&offset=1');
      expect(second.body).toMatchObject({ homes: [{ home_id: CITY }], paging: { total_count: 8, limit: 1, offset: 1 } });
    });
  });

  describe('creating guests', () => {
    it('returns 201 with the full guest object', async () => {
      const reply = await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, jane);
      expect(reply.status).toBe(201);
      expect(reply.body).toEqual({
        guest_id: expect.any(String),
        home_id: SEASIDE,
        name: 'Jane Doe',
        email: 'jane@example.com',
        phone_number: '+14155234567',
        checkin_time: '2026-06-01T15:00:00.000Z',
        checkout_time: '2026-06-05T11:00:00.000Z',
        source: 'api',
        readonly: false,
        validation_errors: [],
        access_code: null,
        guest_page: expect.stringMatching(/^https:\/\//),
        created_at: new Date(h.clockMs).toISOString(),
      });
    });

    it('does not deduplicate: the same body twice makes two guests', async () => {
      const first = await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, jane);
      const second = await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, jane);
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(first.body.guest_id).not.toBe(second.body.guest_id);
      const list = await h.call<{ guests: MinutGuest[] }>(token, 'GET', `/homes/${SEASIDE}/guests`);
      expect(list.body.guests.map((guest) => guest.guest_id)).toEqual([first.body.guest_id, second.body.guest_id]);
    });

    it('normalises check-in/out instants to UTC', async () => {
      const reply = await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, {
        ...jane,
        checkin_time: '2026-06-01T17:00:00+02:00',
      });
      expect(reply.body.checkin_time).toBe('2026-06-01T15:00:00.000Z');
    });

    it('flags missing contact and bad phone numbers in validation_errors but still creates the guest', async () => {
      const noContact = await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, { name: 'No Contact', ...stay });
      expect(noContact.status).toBe(201);
      expect(noContact.body.validation_errors).toEqual(['missing_phone_number_and_email']);
      expect(noContact.body).toMatchObject({ email: null, phone_number: null });

      const blank = await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, { ...jane, email: '', phone_number: null });
      expect(blank.body.validation_errors).toEqual(['missing_phone_number_and_email']);

      const badPhone = await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, { ...jane, phone_number: '0701234567' });
      expect(badPhone.status).toBe(201);
      expect(badPhone.body.validation_errors).toEqual(['invalid_phone_number']);
      expect(badPhone.body.phone_number).toBe('0701234567');

      expect(h.server.minut.guests(SEASIDE)).toHaveLength(3);
    });

    it.each([
      ['missing name', { ...stay }],
      ['blank name', { ...jane, name: '   ' }],
      ['date-only check-in', { ...jane, checkin_time: '2026-06-01' }],
      ['local time without offset', { ...jane, checkout_time: '2026-06-05T11:00:00' }],
      ['impossible date', { ...jane, checkin_time: '2026-02-30T15:00:00Z' }],
      ['checkout before checkin', { ...jane, checkout_time: '2026-05-30T11:00:00Z' }],
      ['checkout equal to checkin', { ...jane, checkout_time: jane.checkin_time }],
      ['email of the wrong type', { ...jane, email: 42 }],
    ])('rejects %s with 400 invalid_guest', async (_label, body) => {
      const reply = await h.call(token, 'POST', `/homes/${SEASIDE}/guests`, body);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error_key: 'invalid_guest', message: expect.any(String) });
      expect(h.server.minut.guests()).toHaveLength(0);
    });

    it('answers malformed bodies with 400 invalid_request (bad JSON) or 415 (not JSON)', async () => {
      const badJson = await send(`${h.apiBase}/homes/${SEASIDE}/guests`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: '{"name": "Jane",',
      });
      expect(badJson).toMatchObject({ status: 400, body: { error_key: 'invalid_request' } });
      const array = await h.call(token, 'POST', `/homes/${SEASIDE}/guests`, [jane]);
      expect(array).toMatchObject({ status: 400, body: { error_key: 'invalid_request' } });
      const text = await send(`${h.apiBase}/homes/${SEASIDE}/guests`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: JSON.stringify(jane), // fetch sends text/plain for a string body
      });
      expect(text.status).toBe(415);
    });

    it('404s an unknown home without error_key', async () => {
      const create = await h.call(token, 'POST', '/homes/home_nope/guests', jane);
      const list = await h.call(token, 'GET', '/homes/home_nope/guests');
      for (const reply of [create, list]) {
        expect(reply.status).toBe(404);
        expect(reply.body).not.toHaveProperty('error_key');
      }
    });
  });

  describe('listing guests', () => {
    it('pages with limit/offset and total_count in creation order', async () => {
      const created: string[] = [];
      for (let index = 0; index < 7; index += 1) {
        const reply = await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, { ...jane, name: `Guest ${index}` });
        created.push(reply.body.guest_id);
      }
      await h.call(token, 'POST', `/homes/${CITY}/guests`, jane); // other homes stay out of the list

      const seen: string[] = [];
      for (let offset = 0; ; offset += 3) {
        const page = await h.call<{ guests: MinutGuest[]; paging: unknown }>(
          token,
          'GET',
          `/homes/${SEASIDE}/guests?limit=3&offset=${offset}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.paging).toEqual({ total_count: 7, limit: 3, offset });
        if (page.body.guests.length === 0) break;
        seen.push(...page.body.guests.map((guest) => guest.guest_id));
      }
      expect(seen).toEqual(created);

      const defaults = await h.call<{ guests: MinutGuest[]; paging: unknown }>(token, 'GET', `/homes/${SEASIDE}/guests`);
      expect(defaults.body.paging).toEqual({ total_count: 7, limit: 50, offset: 0 });
      const clamped = await h.call(token, 'GET', `/homes/${SEASIDE}/guests?limit=1000`);
      expect(clamped.body.paging).toMatchObject({ limit: 100 });
      for (const query of ['limit=0', 'limit=abc', 'offset=-1']) {
        const bad = await h.call(token, 'GET', `/homes/${SEASIDE}/guests?${query}`);
        expect(bad).toMatchObject({ status: 400, body: { error_key: 'invalid_request' } });
      }
    });
  });

  describe('reading, updating and deleting a guest', () => {
    let guest: MinutGuest;
    const path = (): string => `/homes/${SEASIDE}/guests/${guest.guest_id}`;

    beforeEach(async () => {
      guest = (await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, jane)).body;
    });

    it('gets one guest; 404s unknown guests and guests of another home', async () => {
      expect(await h.call(token, 'GET', path())).toMatchObject({ status: 200, body: guest });
      const unknown = await h.call(token, 'GET', `/homes/${SEASIDE}/guests/nope`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).not.toHaveProperty('error_key');
      expect((await h.call(token, 'GET', `/homes/${CITY}/guests/${guest.guest_id}`)).status).toBe(404);
    });

    it('PATCH changes only the sent fields and recomputes validation_errors', async () => {
      const moved = await h.call<MinutGuest>(token, 'PATCH', path(), { checkout_time: '2026-06-06T11:00:00Z' });
      expect(moved.status).toBe(200);
      expect(moved.body).toEqual({ ...guest, checkout_time: '2026-06-06T11:00:00.000Z' });

      const badPhone = await h.call<MinutGuest>(token, 'PATCH', path(), { phone_number: '12345' });
      expect(badPhone.body).toMatchObject({ email: 'jane@example.com', validation_errors: ['invalid_phone_number'] });

      const cleared = await h.call<MinutGuest>(token, 'PATCH', path(), { email: null, phone_number: null });
      expect(cleared.body).toMatchObject({ email: null, phone_number: null, validation_errors: ['missing_phone_number_and_email'] });
      expect(h.server.minut.guests()[0]).toEqual(cleared.body);
    });

    it('PATCH re-validates against the stored stay and refuses an empty name', async () => {
      const inverted = await h.call(token, 'PATCH', path(), { checkin_time: '2026-06-10T15:00:00Z' });
      expect(inverted).toMatchObject({ status: 400, body: { error_key: 'invalid_guest' } });
      const emptyName = await h.call(token, 'PATCH', path(), { name: '' });
      expect(emptyName).toMatchObject({ status: 400, body: { error_key: 'invalid_guest' } });
      expect(h.server.minut.guests()[0]).toEqual(guest);
    });

    it('PUT replaces the guest and clears omitted fields', async () => {
      const replaced = await h.call<MinutGuest>(token, 'PUT', path(), {
        name: 'Jane Roe',
        checkin_time: '2026-07-01T15:00:00Z',
        checkout_time: '2026-07-03T11:00:00Z',
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toEqual({
        ...guest,
        name: 'Jane Roe',
        email: null,
        phone_number: null,
        checkin_time: '2026-07-01T15:00:00.000Z',
        checkout_time: '2026-07-03T11:00:00.000Z',
        validation_errors: ['missing_phone_number_and_email'],
      });
      const partial = await h.call(token, 'PUT', path(), { name: 'Only A Name' });
      expect(partial).toMatchObject({ status: 400, body: { error_key: 'invalid_guest' } });
    });

    it('DELETE answers 204, then 404 for the gone guest', async () => {
      const deleted = await fetch(`${h.apiBase}${path()}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
      expect(deleted.status).toBe(204);
      expect(await deleted.text()).toBe('');
      expect((await h.call(token, 'GET', path())).status).toBe(404);
      expect((await h.call(token, 'DELETE', path())).status).toBe(404);
      expect((await h.call(token, 'PATCH', path(), { name: 'Ghost' })).status).toBe(404);
      expect((await h.call(token, 'PUT', path(), jane)).status).toBe(404);
      expect(h.server.minut.guests()).toEqual([]);
    });
  });

  describe('read-only guests from a native PMS integration', () => {
    let native: MinutGuest;
    const path = (): string => `/homes/${SEASIDE}/guests/${native.guest_id}`;

    beforeEach(() => {
      native = h.server.minut.seedGuest(SEASIDE, {
        name: 'Native Guest',
        email: 'native@example.com',
        source: 'hostaway',
        readonly: true,
        ...stay,
      });
    });

    it.each([
      ['PUT', jane],
      ['DELETE', undefined],
      ['PATCH', { name: 'Renamed' }],
      ['PATCH', { checkout_time: '2026-06-09T11:00:00Z', conversation: { status: 'closed' } }],
    ])('refuses %s %j with 400 readonly_guest', async (method, body) => {
      const reply = await h.call(token, method, path(), body);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error_key: 'readonly_guest', message: expect.any(String) });
      expect(h.server.minut.guests()).toEqual([native]);
    });

    it('accepts a PATCH of conversation.status only', async () => {
      const reply = await h.call<MinutGuest>(token, 'PATCH', path(), { conversation: { status: 'closed' } });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ ...native, conversation: { status: 'closed' } });
      expect(reply.body).toMatchObject({ source: 'hostaway', readonly: true, name: 'Native Guest' });
    });
  });

  describe('fault injection', () => {
    it('failNext makes the next matching request fail with 503, then requests succeed', async () => {
      h.server.minut.failNext({ status: 503, method: 'POST', pathIncludes: '/guests', retryAfter: 2 });
      const list = await h.call(token, 'GET', `/homes/${SEASIDE}/guests`); // does not match: GET
      expect(list.status).toBe(200);
      const failed = await h.call(token, 'POST', `/homes/${SEASIDE}/guests`, jane);
      expect(failed.status).toBe(503);
      expect(failed.headers.get('retry-after')).toBe('2');
      expect(failed.body).toMatchObject({ error_key: 'internal_error' });
      expect(h.server.minut.guests()).toHaveLength(0);
      const retried = await h.call(token, 'POST', `/homes/${SEASIDE}/guests`, jane);
      expect(retried.status).toBe(201);
      expect(h.server.minut.guests()).toHaveLength(1);
    });

    it('failNext with count fails that many requests', async () => {
      h.server.minut.failNext({ status: 500, count: 2 });
      expect((await h.call(token, 'GET', '/homes')).status).toBe(500);
      expect((await h.call(token, 'GET', '/homes')).status).toBe(500);
      expect((await h.call(token, 'GET', '/homes')).status).toBe(200);
    });

    it('dropConnectionAfterCreate stores the guest but the client never gets a response', async () => {
      h.server.minut.dropConnectionAfterCreate();
      await expect(h.call(token, 'POST', `/homes/${SEASIDE}/guests`, jane)).rejects.toThrow();
      const stored = await h.call<{ guests: MinutGuest[] }>(token, 'GET', `/homes/${SEASIDE}/guests`);
      expect(stored.body.guests).toHaveLength(1);
      expect(stored.body.guests[0]).toMatchObject({ name: 'Jane Doe', checkin_time: '2026-06-01T15:00:00.000Z' });
      // Only one drop was asked for: the next create answers normally.
      expect((await h.call(token, 'POST', `/homes/${SEASIDE}/guests`, jane)).status).toBe(201);
      const dropped = h.server.minut.requestLog().filter((entry) => entry.droppedConnection);
      expect(dropped).toHaveLength(1);
    });
  });

  describe('observability', () => {
    it('counts requests per route and logs every request without guest data', async () => {
      const created = await h.call<MinutGuest>(token, 'POST', `/homes/${SEASIDE}/guests`, jane);
      await h.call(token, 'GET', `/homes/${SEASIDE}/guests?limit=10`);
      await h.call(token, 'PATCH', `/homes/${SEASIDE}/guests/${created.body.guest_id}`, { name: 'Janet' });
      await h.call(undefined, 'GET', '/homes');

      expect(h.server.minut.counters()).toEqual({
        requests: 5,
        tokenGrants: 1,
        byRoute: {
          'POST /oauth/token': 1,
          'POST /homes/:home_id/guests': 1,
          'GET /homes/:home_id/guests': 1,
          'PATCH /homes/:home_id/guests/:guest_id': 1,
          'GET /homes': 1,
        },
      });
      const log = h.server.minut.requestLog();
      expect(log.map((entry) => [entry.method, entry.path, entry.status])).toEqual([
        ['POST', '/minut/v8/oauth/token', 200],
        ['POST', `/minut/v8/homes/${SEASIDE}/guests`, 201],
        ['GET', `/minut/v8/homes/${SEASIDE}/guests`, 200],
        ['PATCH', `/minut/v8/homes/${SEASIDE}/guests/${created.body.guest_id}`, 200],
        ['GET', '/minut/v8/homes', 401],
      ]);
      expect(log[0]).toMatchObject({ clientId: CLIENT_ID, userAgent: USER_AGENT, at: h.clockMs });
      expect(log[1]).toMatchObject({ token, userAgent: USER_AGENT, route: 'POST /homes/:home_id/guests' });
      expect(log[4]).not.toHaveProperty('token');
      const serialised = JSON.stringify(log);
      for (const secret of ['Jane', 'jane@example.com', '+14155234567']) expect(serialised).not.toContain(secret);
    });
  });

  describe('control API over HTTP', () => {
    it('seeds, lists, injects faults, reports and resets', async () => {
      const seeded = await h.control<MinutGuest>(
        'POST',
        '/guests',
        JSON.stringify({ home_id: CITY, name: 'Native', email: 'n@example.com', readonly: true, ...stay }),
      );
      expect(seeded.status).toBe(201);
      expect(seeded.body).toMatchObject({ home_id: CITY, source: 'hostaway', readonly: true });
      const viaApi = await h.call(token, 'DELETE', `/homes/${CITY}/guests/${seeded.body.guest_id}`);
      expect(viaApi.body).toMatchObject({ error_key: 'readonly_guest' });

      const listed = await h.control<{ guests: MinutGuest[] }>('GET', `/guests?home_id=${CITY}`);
      expect(listed.body.guests.map((guest) => guest.guest_id)).toEqual([seeded.body.guest_id]);
      expect((await h.control<{ guests: MinutGuest[] }>('GET', `/guests?home_id=${SEASIDE}`)).body.guests).toEqual([]);

      const fault = await h.control('POST', '/faults', JSON.stringify({ kind: 'fail-next', status: 502, method: 'GET' }));
      expect(fault.status).toBe(204);
      expect((await h.call(token, 'GET', '/homes')).status).toBe(502);

      expect((await h.control('POST', '/faults', JSON.stringify({ kind: 'drop-after-create' }))).status).toBe(204);
      await expect(h.call(token, 'POST', `/homes/${SEASIDE}/guests`, jane)).rejects.toThrow();
      expect(h.server.minut.guests(SEASIDE)).toHaveLength(1);

      const counters = await h.control('GET', '/counters');
      expect(counters.body).toMatchObject({ requests: 4, tokenGrants: 1 });
      const requests = await h.control<{ requests: { status: number }[] }>('GET', '/requests');
      expect(requests.body.requests.map((entry) => entry.status)).toEqual([200, 400, 502, 201]);

      expect((await h.control('POST', '/reset')).status).toBe(204);
      expect(h.server.minut.guests()).toEqual([]);
      expect((await h.control('GET', '/counters')).body).toEqual({ requests: 0, tokenGrants: 0, byRoute: {} });
    });

    it('sets the rate limit and expires tokens', async () => {
      const set = await h.control('POST', '/rate-limit', JSON.stringify({ perSecond: 1 }));
      expect(set).toMatchObject({ status: 200, body: { rateLimit: { perSecond: 1 } } });
      expect((await h.call(token, 'GET', '/homes')).status).toBe(200);
      expect((await h.call(token, 'GET', '/homes')).status).toBe(429);
      await h.control('POST', '/rate-limit', JSON.stringify({ perSecond: null }));
      expect((await h.call(token, 'GET', '/homes')).status).toBe(200);

      expect((await h.control('POST', '/tokens/expire')).status).toBe(204);
      expect((await h.call(token, 'GET', '/homes')).status).toBe(401);
    });

    it.each([
      ['POST', '/faults', '{"kind": "fail-next", "status":'],
      ['POST', '/faults', JSON.stringify({ kind: 'explode' })],
      ['POST', '/faults', JSON.stringify({ kind: 'fail-next', status: 200 })],
      ['POST', '/faults', JSON.stringify({ kind: 'drop-after-create', count: -1 })],
      ['POST', '/guests', JSON.stringify({ name: 'No Home' })],
      ['POST', '/guests', JSON.stringify({ home_id: 'home_nope' })],
      ['POST', '/guests', JSON.stringify({ home_id: SEASIDE, checkin_time: 'tomorrow' })],
      ['POST', '/rate-limit', JSON.stringify({ perSecond: 'fast' })],
      ['POST', '/reset', '{"everything": true'],
      ['POST', '/tokens/expire', JSON.stringify({ clientId: 'x' })],
    ])('rejects %s %s %s with 400 and a clear message', async (method, path, body) => {
      const reply = await h.control(method, path, body);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error_key: 'invalid_request', message: expect.any(String) });
      expect(String(reply.body.message).length).toBeGreaterThan(5);
    });

    it('404s unknown control routes', async () => {
      expect((await h.control('GET', '/nope')).status).toBe(404);
      expect((await send(`${h.server.url}/_sandbox/nobody/counters`, {})).status).toBe(404);
    });
  });
});

describe('Minut sandbox rate limiting (defaults, injected clock)', () => {
  const h = new Harness();

  beforeAll(async () => {
    await h.start({ retryAfterSeconds: 3 }); // default rateLimit: 5 per rolling second
  });
  afterAll(async () => {
    await h.server.stop();
  });

  it('answers 429 with Retry-After above 5 requests per second per token, and recovers after the window', async () => {
    const token = await h.token();
    h.clockMs += 1_000; // the token grant is limited per client, not per token: start clean anyway
    const statuses: number[] = [];
    for (let index = 0; index < 6; index += 1) statuses.push((await h.call(token, 'GET', '/homes')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);

    const limited = await h.call(token, 'GET', '/homes');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.body).toEqual({ status: 429, message: 'Too many requests', error_key: 'rate_limited' });

    // Another token has its own window.
    const other = await h.token();
    expect((await h.call(other, 'GET', '/homes')).status).toBe(200);

    h.clockMs += 1_000;
    expect((await h.call(token, 'GET', '/homes')).status).toBe(200);

    const log429 = h.server.minut.requestLog().filter((entry) => entry.status === 429);
    expect(log429).toHaveLength(2);
    expect(log429.every((entry) => entry.retryAfter === 3 && entry.token === token)).toBe(true);
  });

  it('limits the token endpoint per client id', async () => {
    h.clockMs += 10_000;
    const statuses: number[] = [];
    for (let index = 0; index < 6; index += 1) statuses.push((await h.requestToken()).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});
