import { describe, expect, it } from 'vitest';
import { MetricsBatch, metricsOptionsFromEnv } from '../../functions/core/metrics.ts';

function batch(disabled = false) {
  const lines: string[] = [];
  const metrics = new MetricsBatch({ namespace: 'GuestSync', service: 'guest-sync', disabled, write: (line) => lines.push(line) });
  const documents = () => lines.map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } });
  return { metrics, lines, documents };
}

describe('metrics: one EMF line per invocation', () => {
  it('writes a webhook\'s counts of different dimensions as one line CloudWatch can read', () => {
    const { metrics, lines, documents } = batch();
    metrics.count('WebhookReceived', { source: 'hostaway' });
    metrics.count('WebhookRejected', { source: 'hostaway', reason: 'invalid_field' });
    metrics.count('MessagesEnqueued', {}, 2);
    metrics.flush(1_000);
    expect(lines).toHaveLength(1);
    const [doc] = documents();
    expect(doc).toMatchObject({ service: 'guest-sync', source: 'hostaway', reason: 'invalid_field', WebhookReceived: 1, WebhookRejected: 1, MessagesEnqueued: 2 });
    expect(doc!._aws.CloudWatchMetrics.map((d) => d.Dimensions[0])).toEqual([['service', 'source'], ['service', 'reason', 'source'], ['service']]);
    expect(doc!._aws.CloudWatchMetrics.every((d) => d.Namespace === 'GuestSync')).toBe(true);
  });

  it.each([
    ['counts of one series add up', (m: MetricsBatch) => { m.count('TargetApplied', { target: 'minut' }); m.count('TargetApplied', { target: 'minut' }); }, [{ TargetApplied: 2, target: 'minut' }]],
    ['one dimension key with two values needs two lines', (m: MetricsBatch) => { m.count('TargetApplied', { target: 'minut' }); m.count('TargetApplied', { target: 'kasify' }); }, [{ TargetApplied: 1, target: 'minut' }, { TargetApplied: 1, target: 'kasify' }]],
    ['timings keep every value', (m: MetricsBatch) => { m.timing('TargetLatency', 12.5, { target: 'minut' }); m.timing('TargetLatency', 40, { target: 'minut' }); }, [{ TargetLatency: [12.5, 40] }]],
    ['a dropped field per field name stays separate', (m: MetricsBatch) => { m.count('OptionalFieldDropped', { field: 'phone', reason: 'unparseable' }); m.count('OptionalFieldDropped', { field: 'email', reason: 'unparseable' }); }, [{ field: 'phone' }, { field: 'email' }]],
  ])('%s', (_name, record, expected) => {
    const { metrics, documents } = batch();
    record(metrics);
    metrics.flush();
    expect(documents()).toEqual(expected.map((e) => expect.objectContaining(e)));
  });

  it('splits a timing with more values than one EMF metric may hold', () => {
    const { metrics, documents } = batch();
    for (let i = 0; i < 150; i++) metrics.timing('TargetLatency', i, { target: 'minut' });
    metrics.flush();
    expect(documents().map((d) => (d.TargetLatency as number[]).length)).toEqual([100, 50]);
  });

  it('writes nothing when there is nothing, when disabled, or twice for one invocation', () => {
    const empty = batch();
    empty.metrics.flush();
    expect(empty.lines).toEqual([]);
    const off = batch(true);
    off.metrics.count('WebhookReceived', { source: 'hostaway' });
    off.metrics.flush();
    expect(off.lines).toEqual([]);
    const once = batch();
    once.metrics.count('WebhookReceived');
    once.metrics.flush();
    once.metrics.flush();
    expect(once.lines).toHaveLength(1);
  });

  it.each([
    [{}, false],
    [{ POWERTOOLS_METRICS_DISABLED: 'true' }, true],
    [{ POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_DEV: 'true' }, false],
    [{ POWERTOOLS_DEV: '1' }, true],
  ])('reads the Powertools settings %j (disabled: %s)', (env, disabled) => {
    expect(metricsOptionsFromEnv(env as NodeJS.ProcessEnv).disabled).toBe(disabled);
  });
});
