import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { exampleConfigWith } from '../support/config.ts';
import { SEASIDE_HOME } from '../support/hostaway.ts';
import { startTestStack, storeFor } from '../support/stack.ts';
import { hostawayRecord, syncInstance } from '../support/sync.ts';

/**
 * Every list guest-sync reads is bounded. A look-up before a create (a create whose answer may
 * have been lost) that reaches its page cap without finding our guest must not conclude
 * "absent" and create a second one: it stops with its own permanent code.
 */
let stack: LocalStack;
beforeAll(async () => {
  // Minut only and unpaced, so paging through a big home takes no time.
  const configPath = exampleConfigWith((config) => {
    config.connections['hostaway-demo'].properties['219407'].targets = { minut: { homeId: SEASIDE_HOME } };
    config.targets.minut.requestsPerSecond = 1000;
  });
  stack = await startTestStack({ syncWorkers: 0, configPath, minut: { rateLimit: null } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('bounded look-ups', () => {
  it('a Minut home with more guests than the look-up reads: no create, lookup_incomplete', async () => {
    for (let i = 0; i < 5_050; i++) stack.sandbox.minut.seedGuest(SEASIDE_HOME, { name: `Someone Else ${i}`, checkin_time: '2026-07-10T13:00:00Z', checkout_time: '2026-07-14T09:00:00Z' });
    const key = { connectionId: 'hostaway-demo', reservationId: '880001' };
    // An earlier attempt wrote its intent and its answer was lost: the retry must look before creating.
    await storeFor(stack).putTargetState(key, {
      target: 'minut', status: 'absent', targetIds: { homeId: SEASIDE_HOME }, appliedFingerprint: null, lastError: null, warnings: [], ttl: 2_000_000_000, updatedAt: Date.now(), version: 1,
      intent: { fingerprint: 'x', startedAt: Date.now() - 120_000, inFlightUntil: Date.now() - 60_000, desired: { name: 'Lost Answer', email: null, phone_number: null, checkin_time: '2026-07-10T13:00:00Z', checkout_time: '2026-07-14T09:00:00Z' } },
    });
    const handler = syncInstance(stack, 'lookup');
    const result = await handler({ Records: [hostawayRecord(stack, 880001, { guestName: 'Lost Answer' })] }, localContext('sync', 60_000));
    expect(result.batchItemFailures).toEqual([]);
    const lists = stack.sandbox.minut.requestLog().filter((e) => e.route === 'GET /homes/:home_id/guests');
    expect(lists).toHaveLength(50);
    expect(stack.sandbox.minut.requestLog().filter((e) => e.route === 'POST /homes/:home_id/guests')).toHaveLength(0);
    expect(await storeFor(stack).getTargetState(key, 'minut')).toMatchObject({ status: 'failed', lastError: { code: 'lookup_incomplete', permanent: true } });
  }, 120_000);
});
