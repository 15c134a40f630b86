import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseMs } from '../../functions/core/budget.ts';
import type { DynamoDbStore } from '../../functions/core/dynamodb-store.ts';
import { SharedToken } from '../../functions/core/shared-token.ts';
import { startEmbeddedStore } from '../support/dynamo.ts';

/**
 * The token shared by every worker (Minut, and the PMS APIs: Guesty allows a handful of grants
 * a day): its refresh lease must outlive a slow grant, or a second worker asks for its own.
 * A simulated clock moves only as the workers wait, so a 30 s grant takes no real time.
 */
let embedded: { store: DynamoDbStore; stop: () => Promise<void> };
beforeAll(async () => {
  embedded = await startEmbeddedStore();
});
afterAll(async () => {
  await embedded?.stop();
});

describe('one lease rule for every shared token', () => {
  it('outlives every attempt of the grant at its full timeout', () => {
    expect(leaseMs({ timeoutMs: 10_000, attempts: 3, backoffMs: 1_000 })).toBeGreaterThanOrEqual(31_000);
  });

  it('a grant that takes 30 s (three 10 s attempts) is asked for once, while another worker waits for it', async () => {
    let clock = Date.parse('2026-11-30T10:00:00Z');
    const now = () => clock;
    // Waiting moves the simulated clock; the grant finishes once 30 s have passed.
    const sleep = async (ms: number) => {
      clock += ms;
      await new Promise((resolve) => setImmediate(resolve));
    };
    let grants = 0;
    const slowGrant = async () => {
      grants++;
      const done = clock + 30_000;
      while (clock < done) await new Promise((resolve) => setImmediate(resolve));
      return { accessToken: `token-${grants}`, expiresInSeconds: 3600 };
    };
    const worker = (owner: string) =>
      new SharedToken({ name: 'vendor', key: 'vendor#slow', owner, store: embedded.store, grant: slowGrant, grantTimeoutMs: 10_000, grantAttempts: 3, now, sleep });
    const [a, b] = await Promise.all([worker('worker-a').get(), (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return worker('worker-b').get();
    })()]);
    expect(grants).toBe(1);
    expect(a).toBe('token-1');
    expect(b).toBe('token-1');
  });

  it("a cold worker's first batch (ten messages asking at once) reads the store once and never polls for its own grant", async () => {
    const asked: string[] = [];
    const store = new Proxy(embedded.store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (typeof name === 'string' && /Token/.test(name)) asked.push(name);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const sleeps: number[] = [];
    let grants = 0;
    const token = new SharedToken({
      name: 'vendor',
      key: 'vendor#batch',
      owner: 'cold-worker',
      store,
      grant: async () => ({ accessToken: `token-${++grants}`, expiresInSeconds: 3600 }),
      grantTimeoutMs: 10_000,
      grantAttempts: 3,
      now: Date.now,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const tokens = await Promise.all(Array.from({ length: 10 }, () => token.get()));
    expect(tokens).toEqual(Array(10).fill('token-1'));
    expect({ grants, sleeps, asked }).toEqual({ grants: 1, sleeps: [], asked: ['getToken', 'tryLeaseToken', 'putToken'] });
    // Then from memory: no request at all.
    expect(await token.get()).toBe('token-1');
    expect(asked).toHaveLength(3);
  });

  it('a token the API rejects is dropped, and the request is sent again with a new grant', async () => {
    let grants = 0;
    const token = new SharedToken({ name: 'vendor', key: 'vendor#rejected', owner: 'worker', store: embedded.store, grant: async () => ({ accessToken: `token-${++grants}`, expiresInSeconds: 3600 }), grantTimeoutMs: 10_000, grantAttempts: 3, now: Date.now });
    const sent: string[] = [];
    const response = await token.call(async (bearer) => {
      sent.push(bearer);
      return { status: bearer === 'token-1' ? 401 : 200, headers: { get: () => null }, json: undefined };
    });
    expect(response.status).toBe(200);
    expect(sent).toEqual(['token-1', 'token-2']);
  });
});
