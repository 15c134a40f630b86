import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * `npm run bench [-- --quick]`: measures, writes bench/results.json and bench/results.md.
 * Figures are ratios against baselines measured in the same run (interleaved), never asserted
 * in tests: these machines are shared and noisy. `--quick` is the smoke size CI runs.
 */
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
// Logs at their production level are measured too (their bytes are in the cost); the bench keeps
// the INFO lines out of the terminal by swallowing stdout while it measures (metrics stay on, as
// on AWS). Set before the logger exists: Powertools puts its first level back at each invocation.
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
const { measureWebhookLatency } = await import('../bench/webhook-latency.ts');
const { measureBundles } = await import('../bench/bundles.ts');
const { measureIngestHotPath } = await import('../bench/ingest-hot-path.ts');
const { quietly } = await import('../bench/quiet.ts');
const { measureColdStart } = await import('../bench/cold-start.ts');
const { measureTargetCalls } = await import('../bench/target-calls.ts');
const { measureBacklog } = await import('../bench/backlog.ts');
const { measureEndToEnd } = await import('../bench/end-to-end.ts');
const { measureCost } = await import('../bench/cost.ts');
const { measureBurst } = await import('../bench/burst.ts');

const size = values.quick ? { rounds: 1, backlog: 20 } : { rounds: 3, backlog: 300 };
const started = Date.now();
const bundles = await measureBundles();
const hotPath = await measureIngestHotPath(values.quick ? { runs: 3, eventsPerRun: 50, warmUpEvents: 500 } : { runs: 15, eventsPerRun: 500, warmUpEvents: 10_000 });
const coldStart = await measureColdStart({ runs: values.quick ? 3 : 25 });
const latency = await quietly(() => measureWebhookLatency(size));
const calls = await quietly(() => measureTargetCalls({ reservations: values.quick ? 4 : 20 }));
const backlog = await quietly(() => measureBacklog(values.quick ? { rounds: 1, reservations: 20, workers: 5 } : { rounds: 3, reservations: 300, workers: 5 }));
const endToEnd = await quietly(() => measureEndToEnd(values.quick ? { rounds: 1, reservations: 30 } : { rounds: 3, reservations: 300 }));
const cost = await measureCost({ reservations: values.quick ? 10 : 200 });
const burst = await quietly(() => measureBurst(values.quick ? { burst: 100, probes: 10 } : { burst: 5000, probes: 20 }));
const results = {
  date: new Date().toISOString(),
  quick: values.quick,
  seconds: Math.round((Date.now() - started) / 1000),
  bundles,
  coldStart,
  ingestHotPath: hotPath,
  webhookLatency: latency,
  targetCalls: calls,
  backlog,
  endToEnd,
  cost,
  burst,
};

const rows = [
  '| figure | measured | baseline in the same run | ratio |',
  '|---|---|---|---|',
  `| webhook answer time while sync drains ${latency.backlog} new reservations (local stack, one process), p50 / p99 | ${latency.draining.p50} / ${latency.draining.p99} ms (${latency.draining.samples} probes) | sync idle: ${latency.idle.p50} / ${latency.idle.p99} ms | ${(latency.draining.p99 / latency.idle.p99).toFixed(2)}× (p99) |`,
  `| time to drain the backlog (Minut only, sandbox unlimited) | ${latency.drainSeconds} s | — | — |`,
  `| cold start, ingest (fresh process: import the bundle and answer a first webhook), median of ${coldStart.runs} | ${coldStart.ingest.ms} ms (import ${coldStart.ingest.importMs} ms) | a bundle making only ingest's AWS calls (${awsCallsOf(coldStart.ingest.awsCalls)}): ${coldStart.ingest.baselineMs} ms (import ${coldStart.ingest.baselineImportMs} ms) | ${coldStart.ingest.ratio}× |`,
  `| cold start, sync (fresh process: import the bundle and sync a first reservation to Minut), median of ${coldStart.runs} | ${coldStart.sync.ms} ms (import ${coldStart.sync.importMs} ms) | a bundle making only sync's AWS calls (${awsCallsOf(coldStart.sync.awsCalls)}): ${coldStart.sync.baselineMs} ms (import ${coldStart.sync.baselineImportMs} ms) | ${coldStart.sync.ratio}× |`,
  `| bundle bytes, ingest | ${bundles.ingest.bytes.toLocaleString('en')} | DynamoDBClient + SQSClient-only handler: ${bundles.ingest.baselineBytes.toLocaleString('en')} | ${(bundles.ingest.bytes / bundles.ingest.baselineBytes).toFixed(2)}× |`,
  `| bundle bytes, sync | ${bundles.sync.bytes.toLocaleString('en')} | DynamoDBClient + SQSClient-only handler: ${bundles.sync.baselineBytes.toLocaleString('en')} | ${(bundles.sync.bytes / bundles.sync.baselineBytes).toFixed(2)}× |`,
  `| bundle bytes, sweep | ${bundles.sweep.bytes.toLocaleString('en')} | — | — |`,
  `| target calls per event, mixed trace (${calls.events} deliveries: duplicates, no-op updates, late older versions, updates, cancels), all four targets | ${calls.total.calls} calls (${Object.entries(calls.byTarget).map(([t, f]) => `${t}: ${f.writes} writes, ${f.lookups} look-ups, ${f.tokens} token grants`).join('; ')}) | oracle (fewest a level-triggered sync can make): ${calls.total.oracle} | ${calls.total.ratio}× (${Object.entries(calls.byTarget).map(([t, f]) => `${t} ${f.ratio}×`).join(', ')}) |`,
  ...Object.entries(backlog.byTarget).map(([t, f]) => `| backlog of ${backlog.reservations} new reservations, ${backlog.workers} concurrent sync workers, sandbox limits enforced (time scaled 6×): ${t} | ${f.budgetUsed}% of its budget used while it had work, ${f.rateLimited} × 429 (${f.calls} calls); fullest window: ${f.peaks.map((p) => `${p.peak} of ${p.limit} a ${p.seconds === 1 ? 'second' : 'minute'}`).join(', ')} | its configured rate (the account's) | — |`),
  `| end to end, one target with no rate limit (${endToEnd.reservations} reservations, median of ${endToEnd.rounds}) | ${endToEnd.reservationsPerSecond} reservations/s | raw send → receive → delete on the same local SQS: ${endToEnd.rawSqsPerSecond} msg/s | ${Math.round(endToEnd.ratio * 100)}% |`,
  `| end to end, ceiling in this harness: the same webhooks through ingest alone (no sync, no parking), taken off the queue as raw SQS's are | ${endToEnd.ingestOnlyPerSecond} webhooks/s | raw SQS, as above | ${Math.round(endToEnd.ingestOnlyRatio * 100)}% |`,
  `| fairness: another connection's events (one every 250 ms), webhook to guest in Minut, while one connection replays ${burst.burst.toLocaleString('en')} events (parked, fed to the queue in turns; the replay's own guests all synced after ${burst.burstSeconds} s), p50 / p99 | ${burst.duringBurst.p50} / ${burst.duringBurst.p99} ms | no burst: ${burst.idle.p50} / ${burst.idle.p99} ms | ${(burst.duringBurst.p50 / burst.idle.p50).toFixed(1)}× (p50) |`,
  ...Object.entries(cost.scenarios).map(([name, c]) => `| AWS cost per 1M events, ${name === 'oneTarget' ? 'one target' : 'four targets'} (prices of ${cost.pricesDate}) | $${c.dollarsPer1M.total.toFixed(2)} with the HTTP API, $${c.dollarsPer1M.totalWithFunctionUrl.toFixed(2)} with a Function URL (${Object.entries(c.dollarsPer1M).filter(([k]) => !k.startsWith('total')).map(([k, v]) => `${k} $${v.toFixed(2)}`).join(', ')}) | per event: ${c.perEvent.dynamodbWrites} DynamoDB writes (${c.perEvent.dynamodbWriteUnits} WRU), ${c.perEvent.dynamodbReads} reads (${c.perEvent.dynamodbReadUnits} RRU), ${c.perEvent.sqsRequests} SQS requests, ${c.perEvent.syncInvocations} sync invocations, ${c.perEvent.logBytes} log bytes (with Lambda's own lines), ${c.perEvent.accessLogBytes} access log bytes (HTTP API only); stored item bytes as DynamoDB counts them, by kind: ${itemBytesOf(c.itemBytes)} | — |`),
  ...Object.entries(hotPath).map(([source, f]) => `| ingest hot path, ${source} (in process, no-op queue, after ${f.warmUpEvents.toLocaleString('en')} warm-up events at ${f.warmUpPerSecond.toLocaleString('en')}/s), medians; the ratio is the median of the runs' paired ratios (each baseline run as long as its handler run, next to it) | ${f.eventsPerSecond.toLocaleString('en')} events/s | HMAC-SHA256 + JSON.parse of the same body: ${f.baselinePerSecond.toLocaleString('en')}/s | ${f.ratio}× slower |`),
];
/** "DynamoDB GetItem ×4, Query ×2 …, SQS SendMessageBatch": a first request's AWS calls, counted by operation. */
/** Average stored item bytes by kind of item (pk/sk prefixes), named as docs/throughput.md names them. */
function itemBytesOf(byKind: Record<string, number>): string {
  const names: Record<string, string> = { 'RES/SNAPSHOT': 'snapshot', 'RES/TARGET': 'target state', 'RATE/WORKER': 'rate lease', 'TOKEN/TOKEN': 'cached token', 'KEY/KEY': 'email-hash key' };
  return Object.entries(byKind).map(([kind, bytes]) => `${names[kind] ?? kind} ${bytes}`).join(', ');
}

function awsCallsOf(calls: string[]): string {
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(call, (counts.get(call) ?? 0) + 1);
  const names: Record<string, string> = { DynamoDB_20120810: 'DynamoDB', AmazonSQS: 'SQS', secretsmanager: 'Secrets Manager' };
  return [...counts].map(([call, n]) => {
    const [service = '', operation = call] = call.split('.');
    return `${names[service] ?? service} ${operation}${n > 1 ? ` ×${n}` : ''}`;
  }).join(', ');
}

const markdown = `# Benchmarks\n\nWritten by \`npm run bench\` on ${results.date}${values.quick ? ' (quick)' : ''}, ${latency.rounds} interleaved round(s).\n\n${rows.join('\n')}\n`;
mkdirSync('bench', { recursive: true });
const suffix = values.quick ? '.quick' : '';
writeFileSync(`bench/results${suffix}.json`, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(`bench/results${suffix}.md`, markdown);
console.log(markdown);
console.log(`written to bench/results${suffix}.json and bench/results${suffix}.md`);
