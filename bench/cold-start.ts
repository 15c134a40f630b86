import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { toApiGatewayEvent } from '../infra/local/http-front.ts';
import { toSqsRecord } from '../infra/local/poller.ts';
import { buildBundles } from '../scripts/build-bundles.ts';
import { firstRequestInFreshProcess, type FirstRequest } from '../test/support/fresh-process.ts';
import { startTestStack } from '../test/support/stack.ts';
import { buildBaseline } from './bundles.ts';
import { benchConfig, genericDelivery } from './generic-webhook.ts';
import { median, round } from './stats.ts';

/**
 * Cold start per function, as Lambda pays it: a fresh Node process imports the bundle AND handles
 * its first request (so code loaded lazily on first use is counted), against a baseline bundle
 * that only makes the same SDK calls on the same local endpoints (checked: each makes its first
 * request once more, untimed, recording its AWS calls). Interleaved A/B runs; medians. Ingest's
 * first request is a signed webhook (verify, parse, queue); sync's is the message that webhook
 * queued (snapshot, state, a Minut guest created; the first run also grants Minut's token).
 */
export interface ColdStartFigure {
  ms: number;
  baselineMs: number;
  ratio: number;
  /** Medians of the import alone (the rest is the first request): where the difference lies. */
  importMs: number;
  baselineImportMs: number;
  /** The AWS calls of one first request, the bundle's and the baseline's alike (`DynamoDB_20120810.GetItem`…). */
  awsCalls: string[];
}

export interface ColdStartFigures {
  runs: number;
  ingest: ColdStartFigure;
  sync: ColdStartFigure;
}

export async function measureColdStart(options: { runs: number }): Promise<ColdStartFigures> {
  const stack = await startTestStack({ configPath: benchConfig(), minut: { rateLimit: null }, sweepIntervalMs: null, syncWorkers: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'guest-sync-bench-cold-'));
  try {
    const bundles = buildBundles(join(dir, 'functions'), stack.env.GUEST_SYNC_CONFIG);
    const baselines = { ingest: await buildBaseline('ingest-sdk-only', dir), sync: await buildBaseline('sync-sdk-only', dir) };
    const env = { ...process.env, ...stack.env, POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' };
    const run = async (bundle: string, event: unknown): Promise<Run> => {
      const { ms, importedMs } = answered(await firstRequestInFreshProcess(bundle, event, env));
      return { ms, importedMs };
    };

    const ingestTimes: Run[] = [];
    const ingestBaseline: Run[] = [];
    for (let i = 0; i < options.runs; i++) {
      ingestTimes.push(await run(bundles.ingest, webhookEvent(`cold-${i}`)));
      ingestBaseline.push(await run(baselines.ingest, { body: '{}' }));
    }
    const ingestCalls = await sameAwsCalls('ingest', [bundles.ingest, webhookEvent('cold-calls')], [baselines.ingest, { body: '{}' }], env);
    // The messages the real ingest queued become sync's first requests, one fresh reservation each
    // (and one more for the calls' check).
    const records = [];
    while (records.length < options.runs + 1) {
      const got = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
      if (!got.Messages?.length) break;
      for (const message of got.Messages) {
        await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        if (message.Attributes?.MessageGroupId !== 'g') records.push(toSqsRecord(message, 'arn:aws:sqs:us-east-1:000000000000:guest-sync-events.fifo'));
      }
    }
    if (records.length < options.runs + 1) throw new Error(`bench: ingest queued ${records.length} of ${options.runs + 1} messages`);
    const syncTimes: Run[] = [];
    const syncBaseline: Run[] = [];
    for (let i = 0; i < options.runs; i++) {
      syncTimes.push(await run(bundles.sync, { Records: [records[i]] }));
      syncBaseline.push(await run(baselines.sync, { Records: [records[i]] }));
    }
    const syncCalls = await sameAwsCalls('sync', [bundles.sync, { Records: [records[options.runs]] }], [baselines.sync, { Records: [records[options.runs]] }], env);
    const created = stack.sandbox.minut.guests('home_demo_city').filter((g) => g.name.startsWith('Cold cold-')).length;
    if (created !== options.runs + 1) throw new Error(`bench: the sync cold starts created ${created} of ${options.runs + 1} Minut guests`);
    const figure = (a: Run[], b: Run[], awsCalls: string[]): ColdStartFigure => {
      const [ms, baselineMs] = [median(a.map((r) => r.ms)), median(b.map((r) => r.ms))];
      return { ms: round(ms, 1), baselineMs: round(baselineMs, 1), ratio: round(ms / baselineMs, 2), importMs: round(median(a.map((r) => r.importedMs)), 1), baselineImportMs: round(median(b.map((r) => r.importedMs)), 1), awsCalls };
    };
    return { runs: options.runs, ingest: figure(ingestTimes, ingestBaseline, ingestCalls), sync: figure(syncTimes, syncBaseline, syncCalls) };
  } finally {
    await stack.stop();
  }
}

/** A first request's answer, or the bench stops: a failed request measures nothing. */
function answered(first: FirstRequest): FirstRequest {
  const { result } = first;
  if ((result.statusCode !== undefined && result.statusCode !== 202) || (result.batchItemFailures?.length ?? 0) > 0) throw new Error(`bench: first request failed: ${JSON.stringify(result)}`);
  return first;
}

/**
 * The AWS calls the bundle and its baseline make on a first request (one untimed run each), which
 * must be the same in number and kind, or the baseline no longer stands for the function.
 */
async function sameAwsCalls(name: string, [bundle, event]: [string, unknown], [baseline, baselineEvent]: [string, unknown], env: NodeJS.ProcessEnv): Promise<string[]> {
  const calls = answered(await firstRequestInFreshProcess(bundle, event, env, { recordAwsCalls: true })).awsCalls ?? [];
  const baselineCalls = answered(await firstRequestInFreshProcess(baseline, baselineEvent, env, { recordAwsCalls: true })).awsCalls ?? [];
  if (calls.length === 0) throw new Error(`bench: no AWS call of ${name}'s first request was recorded`);
  const [a, b] = [[...calls].sort().join(', '), [...baselineCalls].sort().join(', ')];
  if (a !== b) throw new Error(`bench: the ${name} baseline no longer makes the function's AWS calls: update bench/baselines/${name}-sdk-only.ts (${name}: ${a}; baseline: ${b})`);
  return calls;
}

interface Run {
  ms: number;
  importedMs: number;
}

function webhookEvent(id: string) {
  const { body, headers } = genericDelivery({ id, guest: { firstName: 'Cold', lastName: id, email: `${id}@example.com`, phone: '+46 70 123 45 67' } });
  return toApiGatewayEvent({ path: '/webhooks/generic-demo', connectionId: 'generic-demo', headers, body: Buffer.from(body) });
}
