import { AsyncLocalStorage } from 'node:async_hooks';
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, LogItemExtraInput, LogItemMessage, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { MetricsBatch, metricsOptionsFromEnv } from './metrics.ts';

const messageKeys = new AsyncLocalStorage<LogAttributes>();

/**
 * Powertools' Logger, plus correlation keys scoped to the async work of one message
 * (`withLogKeys`): sync handles messages of different reservations at the same time, so keys
 * appended to the shared logger would land on each other's lines.
 */
class ScopedLogger extends Logger {
  protected override processLogItem(logLevel: number, input: LogItemMessage, extraInput: LogItemExtraInput): void {
    const keys = messageKeys.getStore();
    super.processLogItem(logLevel, input, keys ? ([keys, ...extraInput] as LogItemExtraInput) : extraInput);
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
export const metrics = new MetricsBatch(metricsOptionsFromEnv(process.env));

/** Middy middleware that writes the invocation's metrics once, at its end (success or error). */
export function publishMetrics(target: MetricsBatch = metrics): { after: () => void; onError: () => void } {
  const publish = () => target.flush();
  return { after: publish, onError: publish };
}

/** Counts one event (or `value`), with dimensions that stay low-cardinality (reason, target, source). */
export function count(name: string, dimensions: Record<string, string> = {}, value = 1): void {
  metrics.count(name, dimensions, value);
}

/** Records a duration in milliseconds, e.g. `TargetLatency` {target}: the dashboard shows its p50/p99. */
export function timing(name: string, milliseconds: number, dimensions: Record<string, string>): void {
  metrics.timing(name, milliseconds, dimensions);
}

/** A level in seconds, e.g. `TargetBehindSeconds` {target}: an alarm takes its maximum. */
export function level(name: string, seconds: number, dimensions: Record<string, string>): void {
  metrics.seconds(name, seconds, dimensions);
}
