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
  const figures = await measureIngestHotPath({ runs: 1, eventsPerRun: 5, warmUpEvents: 5 });
  expect(Object.keys(figures).sort()).toEqual(['apaleo', 'cloudbeds', 'generic', 'guesty', 'hospitable', 'hostaway', 'lodgify', 'mews', 'smily', 'smoobu']);
  for (const f of Object.values(figures)) {
    expect(f.eventsPerSecond).toBeGreaterThan(0);
    // Each ratio pairs a handler run with a baseline run as long as it: both measured, never 0 or infinite.
    expect(f.baselinePerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(f.ratio) && f.ratio > 0).toBe(true);
  }
});

it('measures cold starts as a fresh process answering its first request, against bundles making only the same AWS calls', async () => {
  const { measureColdStart } = await import('../../bench/cold-start.ts');
  // The harness itself checks that each first request succeeded (202; a Minut guest created per sync run),
  // and that each baseline made the same AWS calls as its function (it stops the bench otherwise).
  const figures = await measureColdStart({ runs: 2 });
  expect(figures.ingest.awsCalls).toEqual(['DynamoDB_20120810.GetItem', 'AmazonSQS.SendMessageBatch']);
  expect(new Set(figures.sync.awsCalls)).toEqual(new Set(['DynamoDB_20120810.GetItem', 'DynamoDB_20120810.Query', 'DynamoDB_20120810.PutItem', 'DynamoDB_20120810.UpdateItem']));
  for (const f of [figures.ingest, figures.sync]) {
    expect(f.ms).toBeGreaterThan(0);
    expect(f.baselineMs).toBeGreaterThan(0);
    // The import is part of the cold start, which goes on to answer the first request.
    expect(f.importMs).toBeGreaterThan(0);
    expect(f.importMs).toBeLessThan(f.ms);
    expect(f.baselineImportMs).toBeLessThan(f.baselineMs);
  }
}, 180_000);

it('counts target calls per event on a mixed trace against the oracle', async () => {
  const { measureTargetCalls } = await import('../../bench/target-calls.ts');
  const figures = await measureTargetCalls({ reservations: 2 });
  expect(figures.events).toBe(11); // 6 deliveries for the cancelled reservation, 5 for the other
  expect(figures.total.oracle).toBeGreaterThan(0);
  expect(figures.byTarget.minut!.writes).toBeGreaterThan(0);
}, 120_000);

it('measures budget use and 429s of each target under a backlog with five workers', async () => {
  const { measureBacklog } = await import('../../bench/backlog.ts');
  const figures = await measureBacklog({ rounds: 1, reservations: 6, workers: 5 });
  expect(Object.keys(figures.byTarget).sort()).toEqual(['hostelmate', 'kasify', 'minut']);
  for (const f of Object.values(figures.byTarget)) expect(f.calls).toBeGreaterThanOrEqual(6);
  // Each enforced window's fullest moment, against the vendor's limit (Minut has two).
  expect(figures.byTarget.minut!.peaks.map((p) => [p.seconds, p.limit])).toEqual([[1, 5], [60, 120]]);
  for (const f of Object.values(figures.byTarget)) for (const p of f.peaks) expect(p.peak).toBeGreaterThanOrEqual(1);
}, 180_000);

it('measures end-to-end throughput against raw SQS, and the AWS cost per 1M events', async () => {
  const { measureEndToEnd } = await import('../../bench/end-to-end.ts');
  const e2e = await measureEndToEnd({ rounds: 1, reservations: 10 });
  expect(e2e.reservationsPerSecond).toBeGreaterThan(0);
  expect(e2e.rawSqsPerSecond).toBeGreaterThan(0);
  expect(e2e.ingestOnlyPerSecond).toBeGreaterThan(0);
  const { measureCost } = await import('../../bench/cost.ts');
  const cost = await measureCost({ reservations: 3 });
  for (const scenario of Object.values(cost.scenarios)) {
    expect(scenario.events).toBe(6);
    // Every event is written to DynamoDB and queued at least once: the counter sees the SDK calls.
    expect(scenario.perEvent.dynamodbWrites).toBeGreaterThanOrEqual(1);
    expect(scenario.perEvent.sqsRequests).toBeGreaterThanOrEqual(1);
    expect(scenario.dollarsPer1M.total).toBeGreaterThan(scenario.dollarsPer1M.totalWithFunctionUrl);
    // Compute is billed from the invocations the handlers ran: every webhook, and the sync batches.
    expect(scenario.perEvent.ingestMs).toBeGreaterThan(0);
    expect(scenario.perEvent.syncInvocations).toBeGreaterThan(0);
    expect(scenario.dollarsPer1M.lambdaCompute).toBeGreaterThan(0);
  }
}, 180_000);

it('measures how a burst on one connection delays another connection\'s events', async () => {
  const { measureBurst } = await import('../../bench/burst.ts');
  const figures = await measureBurst({ burst: 40, probes: 3 });
  expect(figures.probes).toBe(3);
  for (const value of [figures.idle.p50, figures.duringBurst.p99]) expect(Number.isFinite(value)).toBe(true);
}, 120_000);
