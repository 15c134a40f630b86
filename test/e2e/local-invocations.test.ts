import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { captureOutput } from '../support/capture-output.ts';
import { exampleConfigWith } from '../support/config.ts';
import { hostawayDelivery, SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY } from '../support/hostaway.ts';
import { sendHostaway, startTestStack } from '../support/stack.ts';

/**
 * The local stack runs ingest, several sync workers and the lanes in one process, at once. Each
 * invocation must still write what it would write on Lambda, alone in its environment: one EMF
 * line with only its own counts, and log lines that name its own function and request.
 */
// Metrics on and the production log level, before the metrics batch and the logger are created.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

const INGEST_METRICS = ['WebhookAccepted', 'WebhookIgnored', 'WebhookRejected', 'WebhookFailed', 'MessagesEnqueued'];
const SYNC_METRICS = ['MessagesReceived', 'TargetSynced', 'TargetLatency', 'TargetBehindSeconds', 'TargetSkipped'];
const WEBHOOKS = 12;

interface Line {
  _aws?: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
  message?: string;
  function_name?: string;
  function_request_id?: string;
  cold_start?: boolean;
  [key: string]: unknown;
}

let stack: LocalStack;
let lines: Line[];
beforeAll(async () => {
  // Two targets without limits: the guests sync in seconds, through the main workers and the lanes.
  const configPath = exampleConfigWith((config) => {
    config.connections['hostaway-demo'].properties['219407'].targets = { minut: { homeId: SEASIDE_HOME }, kasify: { propertyId: SEASIDE_KASIFY_PROPERTY } };
    for (const name of ['minut', 'kasify']) config.targets[name].requestsPerSecond = 50;
  });
  stack = await startTestStack({ configPath, syncWorkers: 2, sweepIntervalMs: null, minut: { rateLimit: null }, kasify: { perMinute: null } });
  const output = captureOutput();
  try {
    const replies = await Promise.all(
      Array.from({ length: WEBHOOKS }, (_, i) => sendHostaway(stack, hostawayDelivery('reservation.created', { id: 640100 + i, guestName: `Scoped ${i}` }))),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(WEBHOOKS).fill(202));
    await stack.drain(60_000);
  } finally {
    output.stop();
  }
  lines = output
    .text()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
}, 90_000);
afterAll(async () => {
  await stack?.stop();
});

const metricNames = (line: Line) => line._aws!.CloudWatchMetrics.flatMap((directive) => directive.Metrics.map((metric) => metric.Name));

describe('local invocations run side by side, each as if alone', () => {
  it('each webhook gets its own EMF line, and no line mixes ingest and sync metrics', () => {
    const documents = lines.filter((line) => line._aws);
    const ingest = documents.filter((doc) => metricNames(doc).some((name) => INGEST_METRICS.includes(name)));
    expect(ingest).toHaveLength(WEBHOOKS);
    for (const doc of ingest) {
      expect(doc).toMatchObject({ source: 'hostaway', WebhookAccepted: 1, MessagesEnqueued: 1 });
      expect(metricNames(doc).filter((name) => SYNC_METRICS.includes(name))).toEqual([]);
    }
    const sync = documents.filter((doc) => metricNames(doc).some((name) => SYNC_METRICS.includes(name)));
    expect(sync.length).toBeGreaterThan(0);
    for (const doc of sync) expect(metricNames(doc).filter((name) => INGEST_METRICS.includes(name))).toEqual([]);
  });

  it("a sync invocation's lines name its worker and its request, and each worker starts cold once", () => {
    const batches = lines.filter((line) => line.message === 'batch synced');
    expect(batches.length).toBeGreaterThan(0);
    for (const line of batches) expect(line.function_name).toMatch(/^guest-sync-(sync|lane-[a-z]+)-\d+$/);
    expect(new Set(batches.map((line) => line.function_request_id)).size).toBe(batches.length);
    const coldStarts = batches.filter((line) => line.cold_start).map((line) => line.function_name);
    expect(new Set(coldStarts).size).toBe(coldStarts.length);
  });
});
