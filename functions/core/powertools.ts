import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * Shared Powertools singletons (one per execution environment). Logs are JSON and carry
 * connection, reservation and delivery ids as correlation keys, never guest names,
 * emails or phone numbers.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'guest-sync' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'GuestSync',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'guest-sync',
});
export { MetricUnit };

/**
 * Middy middleware that flushes the stored metrics at the end of an invocation, only when
 * there are any: Powertools' own `logMetrics` logs a warning for every invocation that only
 * counted with `singleMetric` (a rejected webhook, an empty batch), which is noise, not news.
 */
export function publishMetrics(target: Metrics = metrics): { after: () => void; onError: () => void } {
  const publish = () => {
    if (target.hasStoredMetrics()) target.publishStoredMetrics();
    else target.clearDimensions();
  };
  return { after: publish, onError: publish };
}

/** Counts one event, with an optional dimension that stays low-cardinality (reason, target, source). */
export function count(name: string, dimensions: Record<string, string> = {}): void {
  if (Object.keys(dimensions).length === 0) {
    metrics.addMetric(name, MetricUnit.Count, 1);
    return;
  }
  const single = metrics.singleMetric();
  for (const [key, value] of Object.entries(dimensions)) single.addDimension(key, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** Records a duration in milliseconds, e.g. `TargetLatency` {target}: the dashboard shows its p50/p99. */
export function timing(name: string, milliseconds: number, dimensions: Record<string, string>): void {
  const single = metrics.singleMetric();
  for (const [key, value] of Object.entries(dimensions)) single.addDimension(key, value);
  single.addMetric(name, MetricUnit.Milliseconds, milliseconds);
}
