import { expect, it } from 'vitest';
import { measureWebhookLatency } from '../../bench/webhook-latency.ts';

/** The benchmark harness at smoke size, so CI keeps it working. No timing is asserted: only that it measures. */
it('measures webhook answer times with sync idle and while it drains a backlog', async () => {
  const figures = await measureWebhookLatency({ rounds: 1, backlog: 10 });
  expect(figures.idle.samples).toBe(50);
  expect(figures.draining.samples).toBeGreaterThan(0);
  for (const value of [figures.idle.p50, figures.idle.p99, figures.draining.p50, figures.draining.p99]) expect(Number.isFinite(value)).toBe(true);
}, 120_000);
