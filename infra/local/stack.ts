import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Context } from 'aws-lambda';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { loadConfigFile, type Config } from '../../functions/core/config.ts';
import { DynamoDbStore, tableDefinition } from '../../functions/core/dynamodb-store.ts';
import { MAX_RECEIVE_COUNT } from '../../functions/core/queue.ts';
import { runtimeFromEnv } from '../../functions/core/runtime.ts';
import { ingestHandlerFor } from '../../functions/ingest/handler-factory.ts';
import { cacheDynaliteParses } from './dynalite-parse-cache.ts';
import { startHttpFront } from './http-front.ts';
import { localContext, localFunction, timedHandler, type LocalInvocation } from './lambda-context.ts';
import type { Poller } from './poller.ts';
import { startSyncWorkers, type Lane } from './workers.ts';
import { startSandboxServer, type SandboxServer } from './sandboxes/server.ts';
import type { MinutSandboxOptions } from './sandboxes/minut.ts';
import type { SandboxServerOptions } from './sandboxes/server.ts';
import { sweepDue, type SweepResult } from '../../functions/sweep/sweep.ts';
import type { PmsApiSandboxOptions } from './sandboxes/pms-api.ts';
import type { SmilySandboxOptions } from './sandboxes/smily.ts';

/**
 * The whole of guest-sync on one machine, in one process and offline: dynalite for
 * DynamoDB, fauxqs for SQS, the vendor sandboxes, the HTTP front in place of API
 * Gateway and a poller in place of Lambda's event source mapping, running the same
 * handler code as Lambda. `npm start` and the end-to-end tests both use it.
 */

export const DEFAULT_PORTS = { http: 3000, sandbox: 4010, sqs: 4566, dynamodb: 8000 } as const;
/** The sandbox origin the example config names; rewritten when the sandbox runs elsewhere. */
const EXAMPLE_SANDBOX_ORIGINS = ['http://127.0.0.1:4010', 'http://localhost:4010'];

export interface LocalStackOptions {
  /** 0 picks a free port (tests); defaults are DESIGN.md's. */
  ports?: Partial<Record<keyof typeof DEFAULT_PORTS, number>>;
  host?: string;
  /** Folder for DynamoDB and SQS data that survives restarts; null keeps everything in memory. */
  dataDir?: string | null;
  configPath?: string;
  secretsFiles?: string[];
  /** Extra env for the handlers, e.g. GUEST_SYNC_SECRET_* overrides. */
  env?: Record<string, string>;
  /**
   * Queue visibility timeout. Retries set their own backoff, so this only brings back a
   * batch whose worker died; it must outlast a batch, as on AWS (6 × the function timeout).
   */
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  /** How many sync "Lambda instances" poll at once, each with its own handler. */
  syncWorkers?: number;
  /** A lane (FIFO queue and LANE_MAX_CONCURRENCY workers) per configured target, as on AWS; default true. */
  lanes?: boolean;
  minut?: MinutSandboxOptions;
  recepai?: SandboxServerOptions['recepai'];
  kasify?: SandboxServerOptions['kasify'];
  hostelmate?: SandboxServerOptions['hostelmate'];
  /** The clock sync and the sweep read (tests inject one to move through a stay). Default Date.now. */
  now?: () => number;
  /** How often the sweep runs (as EventBridge does on AWS); null: only when `sweep()` is called. Default 30 s. */
  sweepIntervalMs?: number | null;
  guesty?: PmsApiSandboxOptions;
  smily?: SmilySandboxOptions;
  /** Cap on a retried message's backoff (default 15 minutes); tests set it low with a small maxReceiveCount. */
  maxBackoffSeconds?: number;
  onError?: (error: unknown) => void;
  /** Called after each ingest and sync invocation with its duration (the cost bench's compute). */
  onInvocation?: (invocation: LocalInvocation) => void;
}

export interface LocalStack {
  urls: { webhooks: string; sandbox: string; sqs: string; dynamodb: string };
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  /** Each target's lane (none without lanes). */
  lanes: Lane[];
  tableName: string;
  config: Config;
  /** The env a handler, CLI or bundle needs to talk to this stack. */
  env: Record<string, string>;
  sandbox: SandboxServer;
  sqs: SQSClient;
  dynamodb: DynamoDBClient;
  /** Messages in a queue (waiting, in flight or delayed); the main queue by default. */
  queueDepth(url?: string): Promise<number>;
  /** Resolves once the queue is empty and no batch is in flight (or rejects after timeoutMs). */
  drain(timeoutMs?: number): Promise<void>;
  /** Runs the sweep once now (the same code as the sweep Lambda). */
  sweep(): Promise<SweepResult>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  const dataDir = options.dataDir === undefined ? null : options.dataDir;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    // DynamoDB
    if (dataDir) mkdirSync(join(dataDir, 'dynamodb'), { recursive: true });
    cacheDynaliteParses();
    const ddbServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dataDir ? { path: join(dataDir, 'dynamodb') } : {}) });
    await listen(ddbServer, ports.dynamodb, host);
    stops.push(() => close(ddbServer));
    const dynamodbUrl = `http://${host}:${(ddbServer.address() as AddressInfo).port}`;

    // SQS
    if (dataDir) mkdirSync(join(dataDir, 'sqs'), { recursive: true });
    const fauxqs = await startFauxqs({ port: ports.sqs, host, logger: false, ...(dataDir ? { dataDir: join(dataDir, 'sqs') } : {}) });
    stops.push(() => fauxqs.stop());
    const sqsUrl = `http://${host}:${fauxqs.port}`;

    // Vendor sandboxes
    const sandbox = await startSandboxServer({
      port: ports.sandbox,
      host,
      ...(options.minut ? { minut: options.minut } : {}),
      ...(options.recepai ? { recepai: options.recepai } : {}),
      ...(options.kasify ? { kasify: options.kasify } : {}),
      ...(options.hostelmate ? { hostelmate: options.hostelmate } : {}),
      ...(options.guesty ? { guesty: options.guesty } : {}),
      ...(options.smily ? { smily: options.smily } : {}),
    });
    stops.push(() => sandbox.stop());

    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    const dynamodb = new DynamoDBClient({ endpoint: dynamodbUrl, region: 'us-east-1', credentials });
    const sqs = new SQSClient({ endpoint: sqsUrl, region: 'us-east-1', credentials, useQueueUrlAsEndpoint: false });
    stops.push(async () => {
      dynamodb.destroy();
      sqs.destroy();
    });

    const tableName = 'guest-sync';
    await createTable(dynamodb, tableName);
    // The config, pointed at wherever the sandbox really listens.
    const sourceConfig = resolve(options.configPath ?? 'config/guest-sync.example.json');
    const config = withSandboxOrigin(loadConfigFile(sourceConfig), sandbox.url);
    const laneTargets = options.lanes === false ? [] : Object.keys(config.targets);
    const { queueUrl, queueArn, dlqUrl, lanes } = await createQueues(sqs, options.visibilityTimeoutSeconds ?? 60, options.maxReceiveCount ?? MAX_RECEIVE_COUNT, laneTargets);
    const laneUrls = Object.fromEntries(lanes.map((lane) => [lane.target, lane.queueUrl]));
    const configDir = mkdtempSync(join(tmpdir(), 'guest-sync-config-'));
    const configPath = join(configDir, 'guest-sync.config.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));

    const env: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbUrl,
      AWS_ENDPOINT_URL_SQS: sqsUrl,
      GUEST_SYNC_CONFIG: configPath,
      GUEST_SYNC_TABLE: tableName,
      GUEST_SYNC_QUEUE_URL: queueUrl,
      GUEST_SYNC_DLQ_URL: dlqUrl,
      GUEST_SYNC_LANE_QUEUE_URLS: JSON.stringify(laneUrls),
      GUEST_SYNC_SECRETS: 'local',
      GUEST_SYNC_SECRETS_FILES: (options.secretsFiles ?? ['config/secrets.example.json', '.secrets.json']).map((f) => resolve(f)).join(','),
      ...options.env,
    };
    const handlerEnv = { ...process.env, ...env };

    const ingest = timedHandler('ingest', localFunction(ingestHandlerFor(runtimeFromEnv(handlerEnv))), options.onInvocation);
    const now = options.now ?? Date.now;
    const pollers: Poller[] = startSyncWorkers({
      env: handlerEnv,
      sqs,
      queueUrl,
      queueArn,
      count: options.syncWorkers ?? 1,
      lanes,
      now,
      ...(options.maxBackoffSeconds !== undefined ? { maxBackoffSeconds: options.maxBackoffSeconds } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.onInvocation ? { onInvocation: options.onInvocation } : {}),
    });
    stops.push(async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    });

    // The sweep, on a timer in place of the EventBridge schedule.
    const sweepRuntime = runtimeFromEnv(handlerEnv);
    const sweepOnce = localFunction(async (_event: unknown, _context: Context) => sweepDue({ config: (await sweepRuntime.configStore.current()).config, store: new DynamoDbStore(sweepRuntime.dynamodb, sweepRuntime.tableName), queue: sweepRuntime.queue, now }));
    const sweep = () => sweepOnce({}, localContext('guest-sync-sweep', 60_000));
    const sweepIntervalMs = options.sweepIntervalMs === undefined ? 30_000 : options.sweepIntervalMs;
    if (sweepIntervalMs !== null) {
      let sweeping = false;
      const timer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        sweep()
          .catch((error: unknown) => options.onError?.(error))
          .finally(() => (sweeping = false));
      }, sweepIntervalMs);
      stops.push(async () => clearInterval(timer));
    }

    const front = await startHttpFront({ port: ports.http, host, ingest, health: () => ({ queue: 'guest-sync-events.fifo', table: tableName }) });
    stops.push(() => close(front.server));

    const queueDepth = async (url: string) => {
      const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }));
      const a = out.Attributes ?? {};
      return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
    };

    return {
      urls: { webhooks: front.url, sandbox: sandbox.url, sqs: sqsUrl, dynamodb: dynamodbUrl },
      queueUrl,
      queueArn,
      dlqUrl,
      lanes,
      tableName,
      config,
      env,
      sandbox,
      sqs,
      dynamodb,
      async drain(timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        let quietSince: number | undefined;
        for (;;) {
          const depths = await Promise.all([queueUrl, ...Object.values(laneUrls)].map((url) => queueDepth(url)));
          const idle = depths.every((depth) => depth === 0) && pollers.every((p) => p.inFlight() === 0);
          if (idle) {
            quietSince ??= Date.now();
            if (Date.now() - quietSince >= 300) return;
          } else quietSince = undefined;
          if (Date.now() > deadline) throw new Error(`queue not drained after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      queueDepth: (url = queueUrl) => queueDepth(url),
      sweep,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Points any target at the example's sandbox origin to the sandbox actually running. */
function withSandboxOrigin(config: Config, sandboxUrl: string): Config {
  const targets = { ...config.targets };
  for (const [name, target] of Object.entries(targets) as [keyof Config['targets'], NonNullable<Config['targets'][keyof Config['targets']]>][]) {
    const origin = EXAMPLE_SANDBOX_ORIGINS.find((o) => target.baseUrl.startsWith(o));
    if (origin) (targets as Record<string, unknown>)[name] = { ...target, baseUrl: sandboxUrl + target.baseUrl.slice(origin.length) };
  }
  // PMS APIs read by the sync worker (notify-then-fetch) too.
  const connections = { ...config.connections };
  for (const [id, connection] of Object.entries(connections)) {
    const origin = connection.api && EXAMPLE_SANDBOX_ORIGINS.find((o) => connection.api!.baseUrl.startsWith(o));
    if (!connection.api || !origin) continue;
    const tokenOrigin = connection.api.tokenUrl && EXAMPLE_SANDBOX_ORIGINS.find((o) => connection.api!.tokenUrl!.startsWith(o));
    const tokenUrl = connection.api.tokenUrl && tokenOrigin ? { tokenUrl: sandboxUrl + connection.api.tokenUrl.slice(tokenOrigin.length) } : {};
    connections[id] = { ...connection, api: { ...connection.api, baseUrl: sandboxUrl + connection.api.baseUrl.slice(origin.length), ...tokenUrl } };
  }
  return { ...config, targets, connections };
}

async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    // dynalite has no TTL API: expiry is configured only on AWS (CDK).
    await client.send(new CreateTableCommand({ TableName: tableName, ...tableDefinition }));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error; // kept from an earlier run
  }
}

async function createQueues(sqs: SQSClient, visibilityTimeout: number, maxReceiveCount: number, laneTargets: readonly string[]) {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'guest-sync-dlq.fifo', Attributes: { FifoQueue: 'true', MessageRetentionPeriod: String(14 * 86_400) } }));
  const dlqUrl = dlq.QueueUrl!;
  const dlqAttrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'guest-sync-events.fifo',
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: String(visibilityTimeout),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqAttrs.Attributes!.QueueArn, maxReceiveCount }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl!;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  // A lane per target, with the main queue's settings and DLQ (docs/throughput.md).
  const lanes: Lane[] = [];
  for (const target of laneTargets) {
    const lane = await sqs.send(
      new CreateQueueCommand({
        QueueName: `guest-sync-lane-${target}.fifo`,
        Attributes: { FifoQueue: 'true', VisibilityTimeout: String(visibilityTimeout), RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqAttrs.Attributes!.QueueArn, maxReceiveCount }) },
      }),
    );
    const laneAttrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: lane.QueueUrl!, AttributeNames: ['QueueArn'] }));
    lanes.push({ target, queueUrl: lane.QueueUrl!, queueArn: laneAttrs.Attributes!.QueueArn! });
  }
  return { queueUrl, queueArn: attrs.Attributes!.QueueArn!, dlqUrl, lanes };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolvePromise());
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolvePromise) => {
    server.closeAllConnections?.();
    server.close(() => resolvePromise());
  });
}
