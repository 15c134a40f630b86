import { createServer, type Server } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetExceededError, withDeadline } from '../../functions/core/budget.ts';
import { RetryableError } from '../../functions/core/errors.ts';
import { HttpClient } from '../../functions/core/http-client.ts';

/** A real HTTP server on loopback whose answer each test picks by path. */
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/429-long') return void res.writeHead(429, { 'retry-after': '300' }).end();
    if (req.url === '/hang') return; // never answers
    if (req.url === '/drop') return void req.socket.destroy();
    if (req.url === '/stalls') return void res.writeHead(200, { 'content-type': 'application/json' }).write('{"ok":'); // the body never ends
    if (req.url === '/gzip' || req.url === '/br' || req.url === '/deflate') {
      // Only what the client said it accepts, as a server does.
      const coding = req.url.slice(1);
      if (!(req.headers['accept-encoding'] ?? '').split(',').map((c) => c.trim()).includes(coding)) return void res.writeHead(406).end();
      const encode = { gzip: gzipSync, br: brotliCompressSync, deflate: deflateSync }[coding as 'gzip' | 'br' | 'deflate'];
      return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding }).end(encode(Buffer.from('{"ok":true,"coding":"' + coding + '"}')));
    }
    if (req.url?.startsWith('/redirect/')) {
      // /redirect/<status>/<origin: same | other>: to /echo, on this origin or on the same server by another name.
      const [, , status, origin] = req.url.split('/');
      const to = origin === 'other' ? `http://localhost:${(server.address() as AddressInfo).port}/echo` : '/echo';
      return void res.writeHead(Number(status), { location: to }).end();
    }
    if (req.url === '/echo') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      return void req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, body, authorization: req.headers.authorization ?? null })));
    }
    if (req.url === '/bom') return void res.writeHead(200, { 'content-type': 'application/json', 'x-total-count': '7' }).end('\ufeff{"ok":true}');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(options: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
  const sleeps: number[] = [];
  const http = new HttpClient({ name: 'vendor', sleep: async (ms) => void sleeps.push(ms), ...options });
  return { http, sleeps };
}

describe('HTTP client waits, within the budget', () => {
  it('hands back a 5-minute Retry-After at once, and later requests do not sleep through it either', async () => {
    const { http, sleeps } = client();
    await expect(http.request({ method: 'GET', url: `${base}/429-long` })).rejects.toMatchObject({ code: 'rate_limited', retryAfterSeconds: 300 });
    const started = Date.now();
    await expect(http.request({ method: 'GET', url: `${base}/ok` })).rejects.toMatchObject({ code: 'rate_limited' });
    const again = (await http.request({ method: 'GET', url: `${base}/ok` }).catch((e: unknown) => e)) as RetryableError;
    expect(again.retryAfterSeconds).toBeGreaterThan(290);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sleeps.every((ms) => ms <= 3_000)).toBe(true);
  });

  it('does not wait for its pacing turn past the invocation\'s deadline', async () => {
    const { http, sleeps } = client({ requestsPerSecond: 0.1 }); // one request per 10 s
    await withDeadline(Date.now() + 3_000, async () => {
      await http.request({ method: 'GET', url: `${base}/ok` });
      await expect(http.request({ method: 'GET', url: `${base}/ok` })).rejects.toBeInstanceOf(BudgetExceededError);
    });
    expect(sleeps).toEqual([]);
  });

  it.each([
    ['a hung answer', '/hang'],
    ['an answer whose body stops coming', '/stalls'],
  ])('gives up %s at its timeout, retries a GET, and keeps the cause', async (_name, path) => {
    const { http } = client({ timeoutMs: 200, maxAttempts: 2 });
    const error = (await http.request({ method: 'GET', url: `${base}${path}` }).catch((e: unknown) => e)) as RetryableError;
    expect(error).toMatchObject({ code: 'timeout' });
    expect((error.cause as Error).name).toBe('TimeoutError');
  });

  it('caps a request\'s timeout by what is left of the budget', async () => {
    const { http } = client({ timeoutMs: 10_000, maxAttempts: 1 });
    const started = Date.now();
    await withDeadline(Date.now() + 1_500, async () => {
      await expect(http.request({ method: 'GET', url: `${base}/hang` })).rejects.toMatchObject({ code: 'timeout' });
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reads a JSON body that starts with a byte-order mark, and headers by any case', async () => {
    const { http } = client();
    const response = await http.request({ method: 'GET', url: `${base}/bom` });
    expect(response).toMatchObject({ status: 200, json: { ok: true } });
    expect(response.headers.get('X-Total-Count')).toBe('7');
    expect(response.headers.get('link')).toBeNull();
  });

  it.each(['gzip', 'br', 'deflate'])('asks for compressed answers and reads a %s one', async (coding) => {
    const { http } = client();
    expect(await http.request({ method: 'GET', url: `${base}/${coding}` })).toMatchObject({ status: 200, json: { ok: true, coding } });
  });

  it.each([
    ['a 307 repeats the POST with its body', 307, 'same', { method: 'POST', body: '{"a":1}', authorization: 'Bearer t' }],
    ['a 308 too', 308, 'same', { method: 'POST', body: '{"a":1}', authorization: 'Bearer t' }],
    ['a 302 after a POST is a GET without the body', 302, 'same', { method: 'GET', body: '', authorization: 'Bearer t' }],
    ['a 303 likewise', 303, 'same', { method: 'GET', body: '', authorization: 'Bearer t' }],
    ['credentials never go to another origin', 307, 'other', { method: 'POST', body: '{"a":1}', authorization: null }],
  ])('follows redirects as fetch does: %s', async (_name, status, origin, expected) => {
    const { http } = client();
    const response = await http.request({ method: 'POST', url: `${base}/redirect/${status}/${origin}`, headers: { authorization: 'Bearer t' }, body: { a: 1 } });
    expect(response).toMatchObject({ status: 200, json: expected });
  });

  it('does not repeat a POST whose connection dropped (it may have been applied)', async () => {
    const { http } = client({ maxAttempts: 3 });
    await expect(http.request({ method: 'POST', url: `${base}/drop`, body: {} })).rejects.toMatchObject({ code: 'network_error' });
  });
});

describe('how long a request asked for now would wait for its turn (the hand-off to a lane)', () => {
  /** A client at `rps` whose sleeps never return: `waiting` requests stay parked at their turn. */
  async function pacedWith(options: { rps: number; sent: number; waiting: number; joinWaitMs?: number; blocked?: boolean }) {
    let now = 1_000_000;
    const http = new HttpClient({
      name: 'vendor',
      requestsPerSecond: options.rps,
      now: () => now,
      sleep: () => new Promise<void>(() => undefined),
      ...(options.joinWaitMs !== undefined ? { share: { share: async () => ({ fraction: 1, waitMs: 0 }), noteTurn: () => undefined, joinWaitMs: async () => options.joinWaitMs! } } : {}),
    });
    if (options.blocked) await http.request({ method: 'GET', url: `${base}/429-long` }).catch(() => undefined);
    for (let i = 0; i < options.sent; i++) await http.request({ method: 'GET', url: `${base}/ok` });
    for (let i = 0; i < options.waiting; i++) void http.request({ method: 'GET', url: `${base}/ok` });
    await new Promise((resolve) => setTimeout(resolve, 20));
    now += 0;
    return http.pacingWaitMs();
  }

  it.each([
    ['idle: no wait', { rps: 2, sent: 0, waiting: 0 }, 0],
    ['one call just made: the next turn', { rps: 2, sent: 1, waiting: 0 }, 500],
    ['three waiting behind it: three more turns', { rps: 2, sent: 1, waiting: 3 }, 500 + 3 * 500],
    ['no pacing configured: never', { rps: 0, sent: 1, waiting: 0 }, 0],
    ['a long Retry-After: its end', { rps: 2, sent: 0, waiting: 0, blocked: true }, 300_000],
    ['not admitted yet while another worker is busy: the join wait', { rps: 2, sent: 0, waiting: 0, joinWaitMs: 15_000 }, 15_000],
  ])('%s', async (_name, options, expected) => {
    expect(await pacedWith(options)).toBe(expected);
  });
});
