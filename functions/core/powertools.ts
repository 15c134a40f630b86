import { AsyncLocalStorage } from 'node:async_hooks';
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, LogItemExtraInput, LogItemMessage, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { MetricsBatch, metricsOptionsFromEnv } from './metrics.ts';

const messageKeys = new AsyncLocalStorage<LogAttributes>();
/** The keys of the one request in flight, when it runs alone (see `withRequestLogKeys`). */
let soleRequestKeys: LogAttributes | undefined;

/**
 * On Lambda an execution environment runs one invocation at a time, so one logger and one
 * metrics batch per process are right. The local stack and the chaos suite run ingest, several
 * sync workers and the sweep in one process, at once: each of their invocations runs in a scope
 * (`runLocalInvocation`) with its own metrics batch and the Lambda keys of its own context, so a
 * flush writes only its invocation's counts and a line names the function that wrote it.
 */
interface LocalInvocationScope {
  metrics: MetricsBatch;
  lambdaKeys: LogAttributes;
  ended: boolean;
}
const localInvocations = new AsyncLocalStorage<LocalInvocationScope>();

/**
 * Powertools' Logger, plus correlation keys scoped to the async work of one message
 * (`withLogKeys`): sync handles messages of different reservations at the same time, so keys
 * appended to the shared logger would land on each other's lines.
 */
class ScopedLogger extends Logger {
  // Powertools re-sets the log level at each invocation for its debug sampling, reading the
  // environment as it does: 2 to 3% of the ingest hot path. Without a sample rate
  // (POWERTOOLS_LOGGER_SAMPLE_RATE) the level never changes, so there is nothing to re-set.
  readonly #samplesDebugLogs = Number(process.env.POWERTOOLS_LOGGER_SAMPLE_RATE ?? 0) > 0;

  override refreshSampleRateCalculation(): void {
    if (this.#samplesDebugLogs) super.refreshSampleRateCalculation();
  }

  protected override processLogItem(logLevel: number, input: LogItemMessage, extraInput: LogItemExtraInput): void {
    const lambdaKeys = localInvocations.getStore()?.lambdaKeys;
    // A local invocation never holds the sole request's keys (withRequestLogKeys), so a line of
    // another function running beside it in the process cannot take them.
    const keys = messageKeys.getStore() ?? (lambdaKeys ? undefined : soleRequestKeys);
    const scoped = lambdaKeys ? { ...lambdaKeys, ...keys } : keys;
    super.processLogItem(logLevel, input, scoped ? ([scoped, ...extraInput] as LogItemExtraInput) : extraInput);
  }
}

/**
 * Powertools' keys, less those that are the same on every line of a function's log group
 * (`function_arn`, `function_memory_size`, `sampling_rate`: the group and the REPORT line say
 * them). Logs are billed by the byte; they were about 140 of a `batch synced` line's 410.
 */
export class LeanLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_name: attributes.lambdaContext?.functionName,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(additionalLogAttributes);
  }
}

/**
 * Shared singletons (one per execution environment). Logs are JSON and carry connection,
 * reservation and delivery ids as correlation keys, never guest names, emails or phone numbers.
 */
export const logger: Logger = new ScopedLogger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'guest-sync', logFormatter: new LeanLogFormatter() });

/** Runs `work` with `keys` on every line it logs (and only its lines). */
export function withLogKeys<T>(keys: LogAttributes, work: () => Promise<T>): Promise<T> {
  return messageKeys.run(keys, work);
}

/**
 * `withLogKeys` for a handler that serves one request per invocation (ingest). A request that
 * runs alone, as on Lambda (one invocation at a time), keeps its keys in a plain variable: the
 * first `AsyncLocalStorage` scope a process enters turns on promise hooks that slow every promise
 * after it, about 4 ms of ingest's cold start (docs/throughput.md). A request that starts while
 * another is in flight (a Lambda that runs invocations at once, handlers called side by side), and
 * every request of the local stack (its functions share the process), gets a scope of its own, so
 * each line still carries its own request's keys.
 */
export async function withRequestLogKeys<T>(keys: LogAttributes, work: () => Promise<T>): Promise<T> {
  if (soleRequestKeys !== undefined || messageKeys.getStore() !== undefined || localInvocations.getStore() !== undefined) return messageKeys.run(keys, work);
  soleRequestKeys = keys;
  try {
    return await work();
  } finally {
    soleRequestKeys = undefined;
  }
}

const metricsOptions = metricsOptionsFromEnv(process.env);
const metrics = new MetricsBatch(metricsOptions);

/** The batch this invocation counts into: its own when run locally beside others, else the process's. */
function currentMetrics(): MetricsBatch {
  const scope = localInvocations.getStore();
  return scope && !scope.ended ? scope.metrics : metrics;
}

/**
 * Runs one local invocation in a scope of its own (see `localInvocations`); its metrics are
 * written when it ends, with whatever was counted outside any scope meanwhile.
 */
export async function runLocalInvocation<T>(lambda: { functionName: string; awsRequestId: string; coldStart: boolean }, work: () => Promise<T>): Promise<T> {
  const scope: LocalInvocationScope = {
    metrics: new MetricsBatch(metricsOptions),
    lambdaKeys: { function_name: lambda.functionName, function_request_id: lambda.awsRequestId, cold_start: lambda.coldStart },
    ended: false,
  };
  try {
    return await localInvocations.run(scope, work);
  } finally {
    scope.ended = true;
    scope.metrics.flush();
    metrics.flush();
  }
}

/** Middy middleware that writes the invocation's metrics once, at its end (success or error). */
export function publishMetrics(): { after: () => void; onError: () => void } {
  const publish = () => currentMetrics().flush();
  return { after: publish, onError: publish };
}

/** Counts one event (or `value`), with dimensions that stay low-cardinality (reason, target, source). */
export function count(name: string, dimensions: Record<string, string> = {}, value = 1): void {
  currentMetrics().count(name, dimensions, value);
}

/** Records a duration in milliseconds, e.g. `TargetLatency` {target}: the dashboard shows its p50/p99. */
export function timing(name: string, milliseconds: number, dimensions: Record<string, string>): void {
  currentMetrics().timing(name, milliseconds, dimensions);
}

/** A level in seconds, e.g. `TargetBehindSeconds` {target}: an alarm takes its maximum. */
export function level(name: string, seconds: number, dimensions: Record<string, string>): void {
  currentMetrics().seconds(name, seconds, dimensions);
}
