import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { syncWorkerNames } from '../../infra/local/workers.ts';
import { exampleConfigWith } from '../support/config.ts';
import { hostawayDelivery } from '../support/hostaway.ts';
import { queueDepth, sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/**
 * A burst of 300 reservations for one HostelMate key, its limit scaled down from 120/min to
 * 20/s, two sync instances each pacing at 12/s (more than the limit together): the sandbox
 * must never admit more than the limit in any second, and every booking must end up synced.
 */
const LIMIT_PER_SECOND = 20;
const COUNT = 300;
const PROPERTY = '219500';
let stack: LocalStack;
beforeAll(async () => {
  const configPath = exampleConfigWith((config) => {
    // A property routed to HostelMate only, so the burst measures HostelMate alone.
    config.connections['hostaway-demo'].properties[PROPERTY] = { timeZone: 'Europe/Stockholm', country: 'SE', targets: { hostelmate: { roomId: '3d6f1a2b-8c4e-4f5a-9b7c-0e1d2f3a4b5c' } } };
    config.targets.hostelmate.requestsPerSecond = 12;
    config.targets.hostelmate.burst = 1;
    config.circuitBreaker = { failureThreshold: 5, pauseSeconds: 2, attemptsBeforePending: 3 };
  });
  stack = await startTestStack({ configPath, syncWorkers: 2, sweepIntervalMs: 1_000, hostelmate: { rateLimit: { perSecond: LIMIT_PER_SECOND } } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('HostelMate rate limit under a burst', () => {
  it('never exceeds the limit across two sync instances and syncs every booking', async () => {
    const ids = Array.from({ length: COUNT }, (_, i) => 830000 + i);
    for (let i = 0; i < ids.length; i += 25) {
      const replies = await Promise.all(
        ids.slice(i, i + 25).map((id) =>
          sendHostaway(stack, hostawayDelivery('reservation.created', { id, listingMapId: Number(PROPERTY), guestName: `Burst ${id}`, guestFirstName: 'Burst', guestLastName: String(id), guestEmail: `burst.${id}@example.com` })),
        ),
      );
      expect(replies.every((r) => r.status === 202)).toBe(true);
    }
    await stack.drain(120_000);

    const bookings = stack.sandbox.hostelmate.bookings();
    expect(bookings).toHaveLength(COUNT);
    expect(new Set(bookings.map((b) => b.id)).size).toBe(COUNT);
    const store = storeFor(stack);
    const states = await Promise.all(ids.map((id) => store.getTargetState({ connectionId: 'hostaway-demo', reservationId: String(id) }, 'hostelmate')));
    expect(states.filter((s) => s?.status !== 'synced')).toEqual([]);
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(0);

    const log = stack.sandbox.hostelmate.requestLog();
    // The work was spread over the workers: the two, and HostelMate's lane once its turns were far off.
    const workers = [...new Set(log.map((e) => e.userAgent))];
    expect(workers.length).toBeGreaterThan(1);
    const known = syncWorkerNames(2, ['hostelmate']).map((w) => `guest-sync (${w.instanceId})`);
    for (const worker of workers) expect(known).toContain(worker);
    // Over any one-second window, admitted requests stay within the limit.
    const admitted = log.filter((e) => e.status !== 429).map((e) => e.at).sort((a, b) => a - b);
    let most = 0;
    for (let start = 0, end = 0; end < admitted.length; end++) {
      while (admitted[end]! - admitted[start]! >= 1000) start++;
      most = Math.max(most, end - start + 1);
    }
    expect(most).toBeLessThanOrEqual(LIMIT_PER_SECOND);
    // Every 429 was honoured: the same instance waited out its Retry-After before its next request.
    const limited = log.filter((e) => e.status === 429);
    for (const hit of limited) {
      const next = log.find((e) => e.userAgent === hit.userAgent && e.at > hit.at);
      if (next) expect(next.at - hit.at).toBeGreaterThanOrEqual(hit.retryAfter! * 1000);
    }
  }, 150_000);
});
