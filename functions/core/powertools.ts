import { Logger } from '@aws-lambda-powertools/logger';
import { MetricsBatch, metricsOptionsFromEnv } from './metrics.ts';

/**
 * Shared singletons (one per execution environment). Logs are JSON and carry connection,
 * reservation and delivery ids as correlation keys, never guest names, emails or phone numbers.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'guest-sync' });
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
