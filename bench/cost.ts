import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { itemBytes } from '../functions/core/dynamodb-store.ts';
import type { LocalInvocation } from '../infra/local/lambda-context.ts';
import type { LocalStack } from '../infra/local/stack.ts';
import { ACCESS_LOG_FIELDS, INGEST_MEMORY_MB, SYNC_MEMORY_MB } from '../infra/stack.ts';
import { exampleConfigWith } from '../test/support/config.ts';
import { hostawayDelivery } from '../test/support/hostaway.ts';
import { sendHostaway, startTestStack } from '../test/support/stack.ts';
import { benchConfig, postGeneric } from './generic-webhook.ts';
import { median, round, sum } from './stats.ts';

/**
 * AWS cost per 1M webhook events, from what the pipeline really asks of AWS: every SDK request
 * the handlers make while the local stack ingests and syncs a workload (each reservation
 * created, then changed), item sizes read back from the table (a write costs a unit per KB of
 * the item, a read a unit per 4 KB), the bytes of logs and metrics written, and the invocations.
 * Priced with bench/prices.json (dated, with sources). Lambda compute is billed as Lambda bills
 * it: each invocation's handler run, rounded up to the millisecond, times its memory. Measured
 * here, where every handler shares one process and two cores with the others and the AWS
 * stand-ins: ingest's is an upper bound; sync's waits on a local sandbox, faster than a vendor
 * (docs/throughput.md, "How the cost run counts").
 */
const prices = JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as {
  date: string;
  perMillion: Record<string, number>;
  lambdaArmPerGbSecond: number;
  cloudwatchLogsIngestionPerGb: number;
};

export interface CostFigures {
  pricesDate: string;
  scenarios: Record<string, ScenarioCost>;
}

export interface ScenarioCost {
  events: number;
  perEvent: {
    dynamodbWrites: number;
    /** Writes to the sparse `due` index (an item entering, leaving or moving in it), one unit each. */
    dynamodbIndexWrites: number;
    dynamodbWriteUnits: number;
    dynamodbReads: number;
    dynamodbReadUnits: number;
    sqsRequests: number;
    syncInvocations: number;
    /** What the functions write (logs and EMF metrics), plus Lambda's own START/END/REPORT lines. */
    logBytes: number;
    /** The HTTP API's access log line (not written behind a Function URL). */
    accessLogBytes: number;
    /** Median ingest invocation (handler run), and the mean sync one. */
    ingestMs: number;
    syncMsPerInvocation: number;
  };
  /** AWS requests per event, by operation (DynamoDB through the document client counts as its command, e.g. Update). */
  requests: Record<string, number>;
  itemBytes: Record<string, number>;
  dollarsPer1M: Record<string, number> & { total: number; totalWithFunctionUrl: number };
}

interface Recorded {
  command: string;
  key?: string;
  /** A write's billed units (recordSends). */
  writeUnits?: number;
}

export async function measureCost(options: { reservations: number }): Promise<CostFigures> {
  const scenarios: Record<string, ScenarioCost> = {};
  scenarios.oneTarget = await scenario(options.reservations, 'generic');
  scenarios.fourTargets = await scenario(options.reservations, 'hostaway');
  return { pricesDate: prices.date, scenarios };
}

/** `generic`: one target (Minut); `hostaway`: the demo listing routed to all four. */
async function scenario(reservations: number, kind: 'generic' | 'hostaway'): Promise<ScenarioCost> {
  // Ordinary traffic: a host's deliveries come a few a minute and never park. The bench sends
  // them at once, so parking is off here; a burst's extra writes are in docs/throughput.md.
  const ordinaryTraffic = { burstParking: { events: 100_000, windowSeconds: 1, turn: 20 } };
  const configPath =
    kind === 'generic'
      ? benchConfig(ordinaryTraffic)
      : exampleConfigWith((config) => {
          Object.assign(config, ordinaryTraffic);
          for (const target of Object.values(config.targets as Record<string, { requestsPerSecond?: number; burst?: number }>)) {
            target.requestsPerSecond = 200;
            if (target.burst !== undefined) target.burst = 20;
          }
        });
  const billedMs = { ingest: [] as number[], sync: [] as number[] };
  const onInvocation = (invocation: LocalInvocation) => billedMs[invocation.function].push(Math.ceil(invocation.durationMs));
  const stack = await startTestStack({ configPath, sweepIntervalMs: null, onInvocation, minut: { rateLimit: null }, recepai: { rateLimit: null }, kasify: { perMinute: null }, hostelmate: { rateLimit: null } });
  const recorded: Recorded[] = [];
  const restore = recordSends(recorded);
  // Log bytes at the process's level: `npm run bench` starts at INFO, as deployed (a setLogLevel
  // here would not hold: Powertools restores its first level at each invocation).
  let logBytes = 0;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return true;
  }) as typeof process.stdout.write;
  let events = 0;
  try {
    for (let i = 0; i < reservations; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, reservations - i) }, async (_, j) => {
          for (const step of ['created', 'changed'] as const) {
            await send(stack, kind, i + j, step);
            events++;
          }
        }),
      );
    }
    await stack.drain(300_000);
  } finally {
    process.stdout.write = write;
    restore();
  }
  const sizes = await itemSizes(stack);
  await stack.stop();

  // BatchWrite requests count through their items (BatchPut, BatchDelete), not as one write.
  const isWrite = (c: string) => /^(Put|Update|Delete|BatchPut|BatchDelete)/.test(c);
  const isRead = (c: string) => /^(Get|Query|Scan|BatchGet)/.test(c);
  const dynamo = recorded.filter((r) => r.key !== undefined || /Item|Query|Scan/.test(r.command));
  const writes = dynamo.filter((r) => isWrite(r.command));
  const reads = dynamo.filter((r) => isRead(r.command));
  const unitsOf = (r: Recorded, per: number) => Math.max(1, Math.ceil((sizes.byKey.get(r.key ?? '') ?? sizes.average) / per));
  const indexWrites = recorded.filter((r) => r.command === 'IndexWrite').length;
  const writeUnits = writes.reduce((n, r) => n + (r.writeUnits ?? 1), 0) + indexWrites;
  const readUnits = reads.reduce((n, r) => n + unitsOf(r, 4096), 0);
  // GetQueueAttributes is the harness waiting for the queue to drain, not the pipeline.
  const sqs = recorded.filter((r) => /Message/.test(r.command));
  const syncInvocations = billedMs.sync.length;

  const perEvent = {
    dynamodbWrites: round(writes.length / events, 3),
    dynamodbIndexWrites: round(indexWrites / events, 3),
    dynamodbWriteUnits: round(writeUnits / events, 3),
    dynamodbReads: round(reads.length / events, 3),
    dynamodbReadUnits: round(readUnits / events, 3),
    sqsRequests: round(sqs.length / events, 3),
    syncInvocations: round(syncInvocations / events, 3),
    logBytes: Math.round(logBytes / events + (1 + syncInvocations / events) * LAMBDA_PLATFORM_LOG_BYTES),
    accessLogBytes: ACCESS_LOG_BYTES,
    ingestMs: median(billedMs.ingest),
    syncMsPerInvocation: Math.round(sum(billedMs.sync) / Math.max(1, syncInvocations)),
  };
  const p = prices.perMillion;
  const gbSeconds = ((INGEST_MEMORY_MB / 1024) * (sum(billedMs.ingest) / 1000) + (SYNC_MEMORY_MB / 1024) * (sum(billedMs.sync) / 1000)) / events;
  const dollars = {
    apiGateway: p.apiGatewayHttpRequests!,
    lambdaRequests: (1 + perEvent.syncInvocations) * p.lambdaRequests!,
    lambdaCompute: gbSeconds * prices.lambdaArmPerGbSecond * 1e6,
    sqs: perEvent.sqsRequests * p.sqsFifoRequests!,
    dynamodb: perEvent.dynamodbWriteUnits * p.dynamodbWriteRequestUnits! + perEvent.dynamodbReadUnits * p.dynamodbReadRequestUnits!,
    cloudwatchLogs: (perEvent.logBytes / 1024 ** 3) * prices.cloudwatchLogsIngestionPerGb * 1e6,
    apiAccessLogs: (perEvent.accessLogBytes / 1024 ** 3) * prices.cloudwatchLogsIngestionPerGb * 1e6,
  };
  const rounded = Object.fromEntries(Object.entries(dollars).map(([k, v]) => [k, round(v, 3)])) as Record<string, number>;
  const total = round(sum(Object.values(dollars)), 3);
  const requests: Record<string, number> = {};
  for (const r of recorded) if (r.command !== 'GetQueueAttributes') requests[r.command] = (requests[r.command] ?? 0) + 1;
  for (const k of Object.keys(requests)) requests[k] = round(requests[k]! / events, 3);
  return { events, perEvent, requests, itemBytes: sizes.byType, dollarsPer1M: { ...rounded, total, totalWithFunctionUrl: round(total - dollars.apiGateway - dollars.apiAccessLogs, 3) } };
}

/**
 * Lambda's own lines per invocation in the default text format (the runbook's cold-start query
 * reads the REPORT line), with representative figures; measured lengths, not a guess per field.
 */
const SAMPLE_REQUEST_ID = '8f5c2a1e-3b7d-4c9a-9e21-6d0f4b8a7c35';
const LAMBDA_PLATFORM_LOG_BYTES = Buffer.byteLength(
  `START RequestId: ${SAMPLE_REQUEST_ID} Version: $LATEST\n` +
    `END RequestId: ${SAMPLE_REQUEST_ID}\n` +
    `REPORT RequestId: ${SAMPLE_REQUEST_ID}\tDuration: 23.41 ms\tBilled Duration: 24 ms\tMemory Size: 512 MB\tMax Memory Used: 98 MB\t\n`,
);

/** The webhook API's access log line as the stack defines it, with representative values. */
const ACCESS_LOG_BYTES = Buffer.byteLength(
  JSON.stringify({
    ...ACCESS_LOG_FIELDS,
    requestId: 'Tq2mXjQ1IAMEV0g=',
    requestTime: '01/Dec/2026:06:12:44 +0000',
    sourceIp: '203.0.113.24',
    routeKey: 'POST /webhooks/{connectionId}',
    status: '202',
    responseLength: '44',
    integrationStatus: '202',
    integrationLatency: '23',
    integrationError: '-',
    userAgent: 'Hostaway-Webhooks/1.0',
  }) + '\n',
);

/**
 * Every SDK command the handlers send (the local stack runs them in this process), with the item
 * key it names and, for a write, the write units DynamoDB bills: by the larger of the item before
 * and after (a put replacing an item), at least one, each started kilobyte a unit.
 */
function recordSends(recorded: Recorded[]): () => void {
  const prototypes = [DynamoDBClient.prototype, DynamoDBDocumentClient.prototype, SQSClient.prototype] as unknown as { send: (command: { constructor: { name: string }; input?: Record<string, unknown> }, ...rest: unknown[]) => Promise<unknown> }[];
  const originals = prototypes.map((proto) => Object.getOwnPropertyDescriptor(proto, 'send'));
  // Each item as last written: its size, and its key in the sparse `due` index.
  const written = new Map<string, { bytes: number; due: string | undefined }>();
  const unitsOf = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
  for (const proto of prototypes) {
    const inherited = proto.send;
    Object.defineProperty(proto, 'send', {
      configurable: true,
      writable: true,
      value: function (this: unknown, command: { constructor: { name: string }; input?: Record<string, unknown> }, ...rest: unknown[]) {
        const input = command.input ?? {};
        const name = command.constructor.name.replace(/Command$/, '');
        const batch = input.RequestItems as Record<string, { PutRequest?: { Item?: Record<string, unknown> }; DeleteRequest?: { Key?: Record<string, unknown> } }[]> | undefined;
        const changes: { key: string; next: { bytes: number; due: string | undefined } | undefined }[] = [];
        const write = (command: string, key: string, item: Record<string, unknown> | undefined) => {
          const before = written.get(key)?.bytes ?? 0;
          const bytes = item ? itemBytes(item) : 0;
          recorded.push({ command, key, writeUnits: unitsOf(Math.max(before, bytes)) });
          // An update's new item is not known here: it keeps its size and index key.
          if (item) changes.push({ key, next: { bytes, due: dueIndexKeyOf(item) } });
          else if (/Delete/.test(command)) changes.push({ key, next: undefined });
        };
        if (name.startsWith('BatchWrite') && batch) {
          // A batch is billed per item (each at least one write unit): count each as a write.
          for (const request of Object.values(batch).flat()) {
            const item = request.PutRequest?.Item;
            const key = item ?? request.DeleteRequest?.Key;
            if (key) write(item ? 'BatchPut' : 'BatchDelete', keyOf(key), item);
          }
          recorded.push({ command: name });
        } else {
          const key = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
          if (key && /^(Put|Update|Delete)/.test(name)) write(name, keyOf(key), name.startsWith('Put') ? key : undefined);
          else recorded.push({ command: name, ...(key ? { key: keyOf(key) } : {}) });
        }
        const sent = inherited.call(this, command, ...rest);
        // The sparse `due` index (KEYS_ONLY) is written when an item enters it, leaves it or moves in
        // it (a delete and a put): each a write unit of its own, billed as the table's.
        return changes.length === 0
          ? sent
          : sent.then((result) => {
              for (const { key, next } of changes) {
                const before = written.get(key)?.due;
                const after = next?.due;
                if (before !== after) for (let i = 0; i < (before !== undefined && after !== undefined ? 2 : 1); i++) recorded.push({ command: 'IndexWrite', writeUnits: 1 });
                if (next) written.set(key, next);
                else written.delete(key);
              }
              return result;
            });
      },
    });
  }
  return () =>
    prototypes.forEach((proto, i) => {
      if (originals[i]) Object.defineProperty(proto, 'send', originals[i]!);
      else delete (proto as { send?: unknown }).send;
    });
}

/** The item's key in the sparse `due` index, undefined when it is not in it (dynamodb-store.ts). */
function dueIndexKeyOf(item: Record<string, unknown>): string | undefined {
  return item.dueBucket !== undefined && item.dueAt !== undefined ? `${String(item.dueBucket)}|${String(item.dueAt)}` : undefined;
}

function keyOf(key: Record<string, unknown>): string {
  const plain = (v: unknown) => (typeof v === 'object' && v !== null && 'S' in v ? (v as { S: string }).S : String(v));
  return `${plain(key.pk)}|${plain(key.sk)}`;
}

/** Item sizes as DynamoDB counts them (itemBytes), by key and by kind, at the end of the run. */
async function itemSizes(stack: LocalStack): Promise<{ byKey: Map<string, number>; byType: Record<string, number>; average: number }> {
  const client = DynamoDBDocumentClient.from(stack.dynamodb);
  const byKey = new Map<string, number>();
  const kinds = new Map<string, number[]>();
  let start: Record<string, never> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: stack.tableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of out.Items ?? []) {
      const size = itemBytes(item);
      byKey.set(`${String(item.pk)}|${String(item.sk)}`, size);
      const kind = `${String(item.pk).split('#')[0]}/${String(item.sk).split('#')[0]}`;
      kinds.set(kind, [...(kinds.get(kind) ?? []), size]);
    }
    start = out.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  const byType = Object.fromEntries([...kinds].map(([k, v]) => [k, Math.round(sum(v) / v.length)]));
  const all = [...byKey.values()];
  return { byKey, byType, average: all.length ? sum(all) / all.length : 1024 };
}

async function send(stack: LocalStack, kind: 'generic' | 'hostaway', i: number, step: 'created' | 'changed'): Promise<void> {
  if (kind === 'hostaway') {
    const id = 895000 + i;
    // A stay ahead, as most deliveries are: RecepAI then holds no guest yet but its state names
    // the check-in instant (the sparse index's write is counted).
    const guest = { id, guestName: `Cost ${id}`, guestFirstName: 'Cost', guestLastName: String(id), guestEmail: `cost.${id}@example.com`, arrivalDate: '2027-03-01', departureDate: '2027-03-04' };
    const delivery = step === 'created' ? hostawayDelivery('reservation.created', guest) : hostawayDelivery('reservation.updated', { ...guest, status: 'modified', departureDate: '2027-03-05' });
    const reply = await sendHostaway(stack, delivery);
    if (reply.status !== 202) throw new Error(`bench: cost webhook answered ${reply.status}`);
    return;
  }
  await postGeneric(stack, { id: `cost-${i}`, checkOutDate: step === 'created' ? '2027-03-04' : '2027-03-05', guest: { firstName: 'Cost', lastName: String(i), email: `cost.${i}@example.com` } });
}
