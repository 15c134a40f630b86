import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { captureOutput } from '../support/capture-output.ts';
import { runCli } from '../support/cli.ts';
import { TestClock } from '../support/clock.ts';
import { hostawayDelivery } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

// Metrics on, as deployed (the test config turns them off): the lagging alarm reads one.
const metricsSetting = vi.hoisted(() => {
  const before = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  return before;
});

/**
 * A reservation stuck behind a failing target: `guest-sync status --lagging` lists it with the
 * reason, and sync reports how long it has been behind (`TargetBehindSeconds`, the metric the
 * per-target lagging alarm watches; infra tests check the alarm itself).
 */
// The stack's clock runs an hour behind real time, so the CLI (real time) sees the failures as an hour old.
const clock = new TestClock(new Date(Date.now() - 60 * 60_000).toISOString());
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ now: clock.now, sweepIntervalMs: null, maxBackoffSeconds: 1 });
});
afterAll(async () => {
  await stack?.stop();
  // The environment outlives this file in its worker: put the test setting back.
  if (metricsSetting === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = metricsSetting;
});

/** Every `TargetBehindSeconds` value written for `target` in the EMF lines of `output`. */
function behindSeconds(output: string, target: string): number[] {
  return output
    .split('\n')
    .filter((line) => line.includes('"TargetBehindSeconds"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((emf) => emf.target === target)
    .flatMap((emf) => {
      const value = emf.TargetBehindSeconds;
      return Array.isArray(value) ? (value as number[]) : [value as number];
    });
}

describe('status --lagging', () => {
  it('lists a reservation stuck behind a failing target, and sync reports the lag the alarm watches', async () => {
    const output = captureOutput();
    try {
      // Kasify is down: every request answers 503.
      stack.sandbox.kasify.failNext({ status: 503, count: 10_000 });
      await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 793001, guestName: 'Lagging Guest' }));
      await stack.drain();
      const key = { connectionId: 'hostaway-demo', reservationId: '793001' };
      const kasify = await storeFor(stack).getTargetState(key, 'kasify');
      expect(kasify?.status).toBe('pending'); // parked after its attempts; the others went on
      expect((await storeFor(stack).getTargetState(key, 'minut'))?.status).toBe('synced');

      // 31 minutes later (stack time) the parked work is retried, and fails again.
      clock.advance(31 * 60_000);
      await stack.sweep();
      await stack.drain();
      const values = behindSeconds(output.text(), 'kasify');
      expect(Math.max(...values)).toBeGreaterThanOrEqual(31 * 60);
      expect(Math.max(...values)).toBeLessThan(40 * 60);
      // Targets that hold the guest report 0, so their alarms stay quiet.
      expect(Math.max(...behindSeconds(output.text(), 'minut'))).toBe(0);
    } finally {
      output.stop();
    }

    const listed = await runCli(stack, ['status', '--lagging']);
    expect(listed.code).toBe(1);
    expect(listed.stdout).toContain('1 reservation(s) behind on a target for more than 30 minute(s)');
    expect(listed.stdout).toContain('hostaway-demo/793001  property 219407');
    expect(listed.stdout).toMatch(/kasify\s+pending\s+for (5\d|6\d) min {2}http_503: /);
    expect(listed.stdout).not.toMatch(/^\s+(minut|recepai|hostelmate)\s/m);
    const json = JSON.parse((await runCli(stack, ['status', '--lagging', '--json'])).stdout) as { lagging: { reservationId: string; targets: { target: string; status: string }[] }[] };
    expect(json.lagging).toEqual([expect.objectContaining({ reservationId: '793001', targets: [expect.objectContaining({ target: 'kasify', status: 'pending' })] })]);

    // Not yet behind for three hours; and once Kasify recovers, nothing lags.
    expect((await runCli(stack, ['status', '--lagging', '--minutes', '180'])).code).toBe(0);
    stack.sandbox.kasify.reset();
    clock.advance(10 * 60_000);
    await stack.sweep();
    await stack.drain();
    const after = await runCli(stack, ['status', '--lagging', 'hostaway-demo']);
    expect(after.stdout).toContain('No reservation is behind on any target for more than 30 minute(s).');
    expect(after.code).toBe(0);
  });
});
