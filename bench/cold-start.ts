import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { BUNDLED_CONFIG_FILE, esbuildOptionsFor } from '../infra/bundling.ts';
import { toApiGatewayEvent } from '../infra/local/http-front.ts';
import { toSqsRecord } from '../infra/local/poller.ts';
import { buildBundles } from '../scripts/build-bundles.ts';
import { startTestStack } from '../test/support/stack.ts';
import { benchConfig, genericDelivery } from './generic-webhook.ts';
import { median, round } from './stats.ts';

/**
 * Cold start per function, as Lambda pays it: a fresh Node process imports the bundle AND handles
 * its first request (so code loaded lazily on first use is counted), against a baseline bundle
 * that only makes SDK calls of the same kinds on the same local endpoints. Interleaved A/B runs;
 * medians. Ingest's first request is a signed webhook (verify, parse, queue); sync's is the
 * message that webhook queued (snapshot, state, a Minut guest created, token grant included).
 */
export interface ColdStartFigures {
  runs: number;
  ingest: { ms: number; baselineMs: number; ratio: number };
  sync: { ms: number; baselineMs: number; ratio: number };
}

// Plain JS, so the child loads nothing but Node and the bundle. It reports the time since its
// process started, once the first request is answered.
const CHILD = `
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const { handler } = await import(pathToFileURL(process.env.BENCH_BUNDLE).href);
const event = JSON.parse(readFileSync(process.env.BENCH_EVENT, 'utf8'));
const deadline = Date.now() + 60000;
const context = { functionName: 'bench', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench', memoryLimitInMB: '512', awsRequestId: 'bench', logGroupName: 'bench', logStreamName: 'bench', getRemainingTimeInMillis: () => deadline - Date.now() };
const result = await handler(event, context);
process.stderr.write('BENCH_RESULT ' + JSON.stringify({ ms: performance.now(), result }) + '\\n');
`;

export async function measureColdStart(options: { runs: number }): Promise<ColdStartFigures> {
  const stack = await startTestStack({ configPath: benchConfig(), minut: { rateLimit: null }, sweepIntervalMs: null, syncWorkers: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'guest-sync-bench-cold-'));
  try {
    const bundles = await buildBundles(join(dir, 'functions'), stack.env.GUEST_SYNC_CONFIG);
    const baseline = async (name: string) => {
      const outfile = join(dir, 'baselines', name, 'index.mjs');
      await build(esbuildOptionsFor(fileURLToPath(new URL(`./baselines/${name}.ts`, import.meta.url)), outfile));
      return outfile;
    };
    const baselines = { ingest: await baseline('ingest-sdk-only'), sync: await baseline('sync-sdk-only') };
    const child = join(dir, 'child.mjs');
    writeFileSync(child, CHILD);
    const run = async (bundle: string, event: unknown, name: string): Promise<number> => {
      const eventFile = join(dir, `event-${name}.json`);
      writeFileSync(eventFile, JSON.stringify(event));
      const env = { ...process.env, ...stack.env, GUEST_SYNC_CONFIG: join(dirname(bundle), BUNDLED_CONFIG_FILE), BENCH_BUNDLE: bundle, BENCH_EVENT: eventFile, POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' };
      return childMs(child, env);
    };

    const ingestTimes: number[] = [];
    const ingestBaseline: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      ingestTimes.push(await run(bundles.ingest, webhookEvent(`cold-${i}`), `ingest-${i}`));
      ingestBaseline.push(await run(baselines.ingest, { body: '{}' }, `ingest-baseline-${i}`));
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
    const syncTimes: number[] = [];
    const syncBaseline: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      syncTimes.push(await run(bundles.sync, { Records: [records[i]] }, `sync-${i}`));
      syncBaseline.push(await run(baselines.sync, { Records: [records[i]] }, `sync-baseline-${i}`));
    }
    const created = stack.sandbox.minut.guests('home_demo_city').filter((g) => g.name.startsWith('Cold cold-')).length;
    if (created !== options.runs) throw new Error(`bench: the sync cold starts created ${created} of ${options.runs} Minut guests`);
    const figure = (a: number[], b: number[]) => ({ ms: round(median(a), 1), baselineMs: round(median(b), 1), ratio: round(median(a) / median(b), 2) });
    return { runs: options.runs, ingest: figure(ingestTimes, ingestBaseline), sync: figure(syncTimes, syncBaseline) };
  } finally {
    await stack.stop();
  }
}

function webhookEvent(id: string) {
  const { body, headers } = genericDelivery({ id, guest: { firstName: 'Cold', lastName: id, email: `${id}@example.com`, phone: '+46 70 123 45 67' } });
  return toApiGatewayEvent({ path: '/webhooks/generic-demo', connectionId: 'generic-demo', headers, body: Buffer.from(body) });
}

function childMs(script: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stderr.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`bench: cold-start child failed (${code}): ${stderr.slice(-500)}`));
      const { ms, result } = JSON.parse(line.slice('BENCH_RESULT '.length)) as { ms: number; result: { statusCode?: number; batchItemFailures?: unknown[] } };
      if ((result.statusCode !== undefined && result.statusCode !== 202) || (result.batchItemFailures?.length ?? 0) > 0) return reject(new Error(`bench: first request failed: ${JSON.stringify(result)}`));
      resolve(ms);
    });
  });
}
