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
});
