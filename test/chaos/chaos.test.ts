import { expect, it } from 'vitest';
import { chaosSummary, runChaos } from './harness.ts';

/**
 * The chaos suite at smoke size (`npm run chaos` runs 50 reservations with minutes-long
 * Retry-Afters and a 60 s outage): the same faults and crashes, shorter, so CI guards it.
 * No timing is asserted; the run must converge to exactly what the PMS asked for.
 */
it('converges with nothing lost, duplicated, stale or orphaned after faults and worker crashes', async () => {
  const report = await runChaos({
    reservations: 8,
    seed: 7,
    sweepSeconds: 2,
    faultSeconds: 15,
    outageSeconds: 5,
    rates: { serverError: 0.15, rateLimited: 0.1, retryAfterSeconds: [1, 2, 5], hang: 0.03, lost: 0.05 },
    crashP: 0.05,
    pauseSeconds: 5,
  });
  console.log(chaosSummary(report));
  // What was still wrong, with its state and trace, so a failure explains itself.
  if (report.problems) console.log(JSON.stringify(report.problems, null, 1));
  // The workers really died mid-invocation (a hook that no longer fires would pass everything else).
  expect(report.crashes).toBeGreaterThanOrEqual(1);
  expect(report.converged).toBe(true);
  expect(report.dlqDepth).toBe(0);
  for (const figures of Object.values(report.targets)) expect({ lost: figures.lost, duplicates: figures.duplicates, stale: figures.stale, orphans: figures.orphans }).toEqual({ lost: 0, duplicates: 0, stale: 0, orphans: 0 });
}, 300_000);
