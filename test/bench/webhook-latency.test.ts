import { expect, it } from 'vitest';
import { measureWebhookLatency } from '../../bench/webhook-latency.ts';

/** The benchmark harness at smoke size, so CI keeps it working. No timing is asserted: only that it measures. */
it('measures webhook answer times with sync idle and while it drains a backlog', async () => {
  const figures = await measureWebhookLatency({ rounds: 1, backlog: 10 });
  expect(figures.idle.samples).toBe(50);
  expect(figures.draining.samples).toBeGreaterThan(0);
  for (const value of [figures.idle.p50, figures.idle.p99, figures.draining.p50, figures.draining.p99]) expect(Number.isFinite(value)).toBe(true);
}, 120_000);

it('measures bundle bytes against SDK-only handlers built the same way', async () => {
  const { measureBundles } = await import('../../bench/bundles.ts');
  const figures = await measureBundles();
  expect(figures.ingest.bytes).toBeGreaterThan(figures.ingest.baselineBytes);
  expect(figures.sync.baselineBytes).toBeGreaterThan(0);
}, 120_000);

it('measures the ingest hot path of every source against HMAC + parse of the same body', async () => {
  const { measureIngestHotPath } = await import('../../bench/ingest-hot-path.ts');
  const figures = await measureIngestHotPath({ runs: 1, eventsPerRun: 5 });
  expect(Object.keys(figures).sort()).toEqual(['apaleo', 'cloudbeds', 'generic', 'guesty', 'hospitable', 'hostaway', 'lodgify', 'mews', 'smily', 'smoobu']);
  for (const f of Object.values(figures)) expect(f.eventsPerSecond).toBeGreaterThan(0);
});

it('measures cold starts as a fresh process answering its first request, against SDK-only bundles', async () => {
  const { measureColdStart } = await import('../../bench/cold-start.ts');
  // The harness itself checks that each first request succeeded (202; a Minut guest created per sync run).
  const figures = await measureColdStart({ runs: 2 });
  for (const f of [figures.ingest, figures.sync]) {
    expect(f.ms).toBeGreaterThan(0);
    expect(f.baselineMs).toBeGreaterThan(0);
  }
}, 180_000);
