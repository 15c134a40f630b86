import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toApiGatewayEvent } from '../../infra/local/http-front.ts';
import { localContext } from '../../infra/local/lambda-context.ts';
import { toSqsRecord } from '../../infra/local/poller.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { BUNDLED_CONFIG_FILE, esbuildOptionsFor } from '../../infra/bundling.ts';
import { buildBundles, bundleFiles } from '../../scripts/build-bundles.ts';
import { hostawayDelivery, HOSTAWAY_AUTH, SEASIDE_HOME } from '../support/hostaway.ts';
import { countCompiledFunctions } from '../support/compiled-functions.ts';
import { firstRequestInFreshProcess } from '../support/fresh-process.ts';
import { startTestStack, storeFor } from '../support/stack.ts';

/** The esbuild bundles Lambda would run (same settings as CDK), not the TypeScript sources. */
type IngestHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type SyncHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type SweepHandler = (event: unknown, context: Context) => Promise<{ due: number; enqueued: number }>;

let stack: LocalStack;
let ingest: IngestHandler;
let sync: SyncHandler;
let sweep: SweepHandler;
let bundlesDir: string;
let bundles: Awaited<ReturnType<typeof buildBundles>>;

beforeAll(async () => {
  stack = await startTestStack({ syncWorkers: 0 });
  bundlesDir = mkdtempSync(join(tmpdir(), 'guest-sync-bundles-'));
  bundles = buildBundles(bundlesDir, stack.env.GUEST_SYNC_CONFIG);
  // As on Lambda: the config is read from the bundle's own folder, endpoints from the environment.
  Object.assign(process.env, stack.env, { GUEST_SYNC_CONFIG: join(dirname(bundles.ingest), BUNDLED_CONFIG_FILE) });
  ingest = ((await import(pathToFileURL(bundles.ingest).href)) as { handler: IngestHandler }).handler;
  process.env.GUEST_SYNC_CONFIG = join(dirname(bundles.sync), BUNDLED_CONFIG_FILE);
  sync = ((await import(pathToFileURL(bundles.sync).href)) as { handler: SyncHandler }).handler;
  process.env.GUEST_SYNC_CONFIG = join(dirname(bundles.sweep), BUNDLED_CONFIG_FILE);
  sweep = ((await import(pathToFileURL(bundles.sweep).href)) as { handler: SweepHandler }).handler;
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

describe('the Lambda bundles', () => {
  it('ingest bundle accepts a webhook and queues it; sync bundle turns the batch into a Minut guest', async () => {
    const body = Buffer.from(JSON.stringify(hostawayDelivery('reservation.created', { id: 750001, guestName: 'Bundle Guest' })));
    const event = toApiGatewayEvent({ path: '/webhooks/hostaway-demo', connectionId: 'hostaway-demo', headers: { 'content-type': 'application/json', authorization: HOSTAWAY_AUTH }, body });
    // Neither first request compiles a schema (zod's JIT, `new Function`): a cold start pays none.
    const compiled = countCompiledFunctions(bundlesDir);
    const reply = await ingest(event, localContext('ingest', 10_000));
    expect(reply.statusCode).toBe(202);

    const received = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
    expect(received.Messages).toHaveLength(1);
    const arn = 'arn:aws:sqs:us-east-1:000000000000:guest-sync-events.fifo';
    const result = await sync({ Records: received.Messages!.map((m) => toSqsRecord(m, arn)) }, localContext('sync', 60_000));
    expect(result.batchItemFailures).toEqual([]);
    expect(compiled.stop()).toBe(0);
    await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: received.Messages![0]!.ReceiptHandle! }));

    expect(stack.sandbox.minut.guests(SEASIDE_HOME).map((g) => g.name)).toEqual(['Bundle Guest']);
  });

  it('a fresh process loads no fetch implementation (undici) for ingest\'s or sync\'s first request (about 10 ms of each cold start), and AsyncLocalStorage runs on AsyncContextFrame, not promise hooks', async () => {
    // The webhook and the message it queues, each handled by its bundle in a process of its own.
    const body = Buffer.from(JSON.stringify(hostawayDelivery('reservation.created', { id: 750002, guestName: 'Fresh Process Guest', phone: '+46 70 123 45 67' })));
    const webhook = toApiGatewayEvent({ path: '/webhooks/hostaway-demo', connectionId: 'hostaway-demo', headers: { 'content-type': 'application/json', authorization: HOSTAWAY_AUTH }, body });
    const env = { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' };
    expect(await firstRequestInFreshProcess(bundles.ingest, webhook, env)).toMatchObject({ result: { statusCode: 202 }, undici: false, asyncLocalStorage: 'async_context_frame' });
    const received = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
    expect(received.Messages).toHaveLength(1);
    const records = received.Messages!.map((m) => toSqsRecord(m, 'arn:aws:sqs:us-east-1:000000000000:guest-sync-events.fifo'));
    // Sync scopes its deadline and each message's log keys; with Lambda's NODE_OPTIONS no promise pays a hook for them.
    expect(await firstRequestInFreshProcess(bundles.sync, { Records: records }, env)).toMatchObject({ result: { batchItemFailures: [] }, undici: false, asyncLocalStorage: 'async_context_frame' });
    await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: received.Messages![0]!.ReceiptHandle! }));
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).map((g) => g.name)).toContain('Fresh Process Guest');
  });

  it('ingest bundle answers a bad signature with 401 and a base64 body like API Gateway sends for binary types', async () => {
    const body = Buffer.from(JSON.stringify(hostawayDelivery('reservation.created')));
    const event = toApiGatewayEvent({ path: '/webhooks/hostaway-demo', connectionId: 'hostaway-demo', headers: { 'content-type': 'application/octet-stream', authorization: 'Basic bm9wZTpub3Bl' }, body });
    expect(event.isBase64Encoded).toBe(true);
    const reply = await ingest(event, localContext('ingest', 10_000));
    expect(reply.statusCode).toBe(401);
    expect(JSON.parse(reply.body!)).toMatchObject({ error: { code: 'invalid_credentials' } });
  });

  it('sync bundle sets an unreadable message aside in the DLQ at once, with its reason, instead of failing it five times', async () => {
    const body = JSON.stringify({ v: 99, kind: 'reservation', connectionId: 'hostaway-demo', reservation: { reservationId: '750777' } });
    const record = toSqsRecord({ MessageId: 'm-bad', ReceiptHandle: 'r-bad', Body: body, Attributes: { MessageGroupId: 'hostaway-demo#750777' } }, 'arn:aws:sqs:us-east-1:000000000000:q.fifo');
    const result = await sync({ Records: [record] }, localContext('sync', 60_000));
    expect(result.batchItemFailures).toEqual([]);
    const dead = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['MessageGroupId'] }));
    expect(dead.Messages).toHaveLength(1);
    expect(dead.Messages![0]).toMatchObject({ Body: body, Attributes: { MessageGroupId: 'hostaway-demo#750777' } });
    expect(dead.Messages![0]!.MessageAttributes?.reason?.StringValue).toMatch(/^v: /);
    await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.dlqUrl, ReceiptHandle: dead.Messages![0]!.ReceiptHandle! }));
    expect(await storeFor(stack).getUnreadable({ connectionId: 'hostaway-demo', reservationId: '750777' })).toMatchObject({ messageId: 'm-bad', reason: expect.stringMatching(/^v: /) });
  });

  it('sweep bundle enqueues a resync for target work that is due, found through the due index', async () => {
    const key = { connectionId: 'hostaway-demo', reservationId: '750009' };
    await storeFor(stack).putTargetState(key, {
      target: 'kasify', status: 'pending', targetIds: {}, appliedFingerprint: null, intent: null, lastError: null, warnings: [],
      dueAt: Date.now() - 1_000, ttl: 2_000_000_000, updatedAt: Date.now(), version: 1,
    });
    const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', time: new Date().toISOString(), detail: {} };
    expect(await sweep(scheduled, localContext('sweep', 60_000))).toEqual({ due: 1, enqueued: 1, drainsRestarted: 0 });
    const received = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(received.Messages?.map((m) => JSON.parse(m.Body!))).toEqual([expect.objectContaining({ kind: 'resync', reason: 'sweep', ...key })]);
    await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: received.Messages![0]!.ReceiptHandle! }));
  });

  it("ingest bundle parks a connection's burst in the table, through the store it loads on the first burst only", async () => {
    // The example config's threshold: more than 50 events of one connection in 10 s.
    const replies: number[] = [];
    for (let i = 0; i < 55; i++) {
      const body = Buffer.from(JSON.stringify(hostawayDelivery('reservation.created', { id: 760000 + i, guestName: `Burst Guest ${i}` })));
      const event = toApiGatewayEvent({ path: '/webhooks/hostaway-demo', connectionId: 'hostaway-demo', headers: { 'content-type': 'application/json', authorization: HOSTAWAY_AUTH }, body });
      replies.push((await ingest(event, localContext('ingest', 10_000))).statusCode!);
    }
    expect(replies.every((status) => status === 202)).toBe(true);
    const store = storeFor(stack);
    const parked = await store.listParked('hostaway-demo', 100);
    // The events past the threshold (the count runs since this instance's first webhook of the window).
    expect(parked.length).toBeGreaterThanOrEqual(5);
    // The rest reached the queue, with the drain that will feed the parked ones to it in turns.
    const bodies: { kind: string }[] = [];
    for (let got; (got = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))).Messages?.length; ) {
      for (const message of got.Messages!) {
        bodies.push(JSON.parse(message.Body!) as { kind: string });
        await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      }
    }
    expect(bodies.filter((b) => b.kind === 'reservation')).toHaveLength(55 - parked.length);
    expect(bodies.filter((b) => b.kind === 'drain')).toHaveLength(1);
    await store.deleteParked('hostaway-demo', parked.map((m) => m.id));
  });

  it('evaluates every chunk of each bundle after its handler, as the first delivery of any PMS or the first use of any client would', async () => {
    // Each source, API reader and lazily built client is a chunk, read on its first use only.
    for (const bundle of [bundles.ingest, bundles.sync, bundles.sweep]) {
      const chunks = bundleFiles(bundle).filter((f) => f.file !== bundle);
      expect(chunks.length).toBeGreaterThan(10);
      for (const chunk of chunks) await expect(import(pathToFileURL(chunk.file).href), chunk.file).resolves.toBeDefined();
    }
  });

  it("ships zod's compiler in ingest's bundle only: sync and the sweep never compile a parser", () => {
    const holdsCompiler = (bundle: string) => bundleFiles(bundle).some((f) => readFileSync(f.file, 'utf8').includes('z.compile does not support'));
    expect(holdsCompiler(bundles.ingest)).toBe(true);
    expect(holdsCompiler(bundles.sync)).toBe(false);
    expect(holdsCompiler(bundles.sweep)).toBe(false);
  });

  it('keeps the names of our errors, which logs and error classification read, though it keeps no class names', async () => {
    const functions = fileURLToPath(new URL('../../functions/', import.meta.url));
    const entry = join(bundlesDir, 'errors-entry.ts');
    const modules = ['core/errors.ts', 'core/store.ts', 'core/config.ts', 'core/secrets.ts', 'core/budget.ts', 'sync/state-writer.ts'];
    writeFileSync(entry, modules.map((m) => `export * from ${JSON.stringify(join(functions, m))};`).join('\n'));
    const outDir = join(bundlesDir, 'errors');
    await build(esbuildOptionsFor(entry, outDir));
    const bundled = (await import(pathToFileURL(join(outDir, 'index.mjs')).href)) as Record<string, unknown>;
    const errorClasses = Object.entries(bundled).filter((e): e is [string, new () => Error] => typeof e[1] === 'function' && (e[1] as { prototype?: unknown }).prototype instanceof Error);
    expect(errorClasses.map(([name]) => name).sort()).toEqual(['BudgetExceededError', 'ConfigError', 'GuestSyncError', 'HandoffDirty', 'PermanentError', 'RetryableError', 'SecretNotFoundError', 'StaleWriteError', 'WebhookError']);
    for (const [name, ErrorClass] of errorClasses) expect(new ErrorClass().name, name).toBe(name);
  });
});
