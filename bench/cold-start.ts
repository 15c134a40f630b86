import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { toApiGatewayEvent } from '../infra/local/http-front.ts';
import { toSqsRecord } from '../infra/local/poller.ts';
import { buildBundles } from '../scripts/build-bundles.ts';
import { firstRequestInFreshProcess } from '../test/support/fresh-process.ts';
import { startTestStack } from '../test/support/stack.ts';
import { buildBaseline } from './bundles.ts';
import { benchConfig, genericDelivery } from './generic-webhook.ts';
import { median, round } from './stats.ts';

/**
 * Cold start per function, as Lambda pays it: a fresh Node process imports the bundle AND handles
 * its first request (so code loaded lazily on first use is counted), against a baseline bundle
 * that only makes SDK calls of the same kinds on the same local endpoints. Interleaved A/B runs;
 * medians. Ingest's first request is a signed webhook (verify, parse, queue); sync's is the
 * message that webhook queued (snapshot, state, a Minut guest created, token grant included).
 */
export interface ColdStartFigure {
  ms: number;
  baselineMs: number;
  ratio: number;
  /** Medians of the import alone (the rest is the first request): where the difference lies. */
  importMs: number;
  baselineImportMs: number;
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
    const run = async (bundle: string, event: unknown): Promise<Run> => {
      const { ms, importedMs, result } = await firstRequestInFreshProcess(bundle, event, { ...process.env, ...stack.env, POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' });
      if ((result.statusCode !== undefined && result.statusCode !== 202) || (result.batchItemFailures?.length ?? 0) > 0) throw new Error(`bench: first request failed: ${JSON.stringify(result)}`);
      return { ms, importedMs };
    };

    const ingestTimes: Run[] = [];
    const ingestBaseline: Run[] = [];
    for (let i = 0; i < options.runs; i++) {
      ingestTimes.push(await run(bundles.ingest, webhookEvent(`cold-${i}`)));
      ingestBaseline.push(await run(baselines.ingest, { body: '{}' }));
    }
    // The messages the real ingest queued become sync's first requests, one fresh reservation each.
    const records = [];
    while (records.length < options.runs) {
      const got = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
      if (!got.Messages?.length) break;
      for (const message of got.Messages) {
        await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        if (message.Attributes?.MessageGroupId !== 'g') records.push(toSqsRecord(message, 'arn:aws:sqs:us-east-1:000000000000:guest-sync-events.fifo'));
      }
    }
    if (records.length < options.runs) throw new Error(`bench: ingest queued ${records.length} of ${options.runs} messages`);
    const syncTimes: Run[] = [];
    const syncBaseline: Run[] = [];
    for (let i = 0; i < options.runs; i++) {
      syncTimes.push(await run(bundles.sync, { Records: [records[i]] }));
      syncBaseline.push(await run(baselines.sync, { Records: [records[i]] }));
    }
    const created = stack.sandbox.minut.guests('home_demo_city').filter((g) => g.name.startsWith('Cold cold-')).length;
    if (created !== options.runs) throw new Error(`bench: the sync cold starts created ${created} of ${options.runs} Minut guests`);
    const figure = (a: Run[], b: Run[]): ColdStartFigure => {
      const [ms, baselineMs] = [median(a.map((r) => r.ms)), median(b.map((r) => r.ms))];
      return { ms: round(ms, 1), baselineMs: round(baselineMs, 1), ratio: round(ms / baselineMs, 2), importMs: round(median(a.map((r) => r.importedMs)), 1), baselineImportMs: round(median(b.map((r) => r.importedMs)), 1) };
    };
    return { runs: options.runs, ingest: figure(ingestTimes, ingestBaseline), sync: figure(syncTimes, syncBaseline) };
  } finally {
    await stack.stop();
  }
}

interface Run {
  ms: number;
  importedMs: number;
}

function webhookEvent(id: string) {
  const { body, headers } = genericDelivery({ id, guest: { firstName: 'Cold', lastName: id, email: `${id}@example.com`, phone: '+46 70 123 45 67' } });
  return toApiGatewayEvent({ path: '/webhooks/generic-demo', connectionId: 'generic-demo', headers, body: Buffer.from(body) });
}
