import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsBatch, metricsOptionsFromEnv } from '../../functions/core/metrics.ts';

function batch(disabled = false) {
  const lines: string[] = [];
  const metrics = new MetricsBatch({ namespace: 'GuestSync', service: 'guest-sync', disabled, write: (line) => lines.push(line) });
  const documents = () => lines.map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } });
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

  it('writes each invocation its own values and time when it has the same metrics as an earlier one', () => {
    const { metrics, documents } = batch();
    for (const [at, received, latency] of [[1_000, 1, [12.5]], [2_000, 3, [7, 9.25]], [3_000, 2, [40]]] as const) {
      metrics.count('WebhookReceived', { source: 'hostaway' }, received);
      for (const ms of latency) metrics.timing('TargetLatency', ms, { target: 'minut' });
      metrics.flush(at);
    }
    expect(documents().map((d) => [d._aws.Timestamp, d.WebhookReceived, d.TargetLatency])).toEqual([
      [1_000, 1, 12.5],
      [2_000, 3, [7, 9.25]],
      [3_000, 2, 40],
    ]);
  });

  it('writes a line whole when a dimension value looks like a placeholder of its template', () => {
    const { metrics, documents } = batch();
    metrics.count('OptionalFieldDropped', { field: '\u0000t', reason: '\u0000v0' }, 4);
    metrics.flush(5_000);
    expect(documents()).toEqual([expect.objectContaining({ field: '\u0000t', reason: '\u0000v0', OptionalFieldDropped: 4, _aws: expect.objectContaining({ Timestamp: 5_000 }) })]);
  });

  it('writes the same lines from a batch that has seen other invocations as from a new one', () => {
    const names = ['WebhookReceived', 'TargetSynced', 'TargetLatency'] as const;
    const record = fc.record({
      name: fc.constantFrom(...names),
      target: fc.constantFrom('minut', 'kasify', undefined),
      action: fc.constantFrom('created', 'updated', undefined),
      value: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1e4, noNaN: true })),
    });
    const invocation = fc.record({ at: fc.integer({ min: 0, max: 2e12 }), records: fc.array(record, { maxLength: 8 }) });
    fc.assert(
      fc.property(fc.array(invocation, { minLength: 1, maxLength: 6 }), (invocations) => {
        const reused = batch();
        for (const { at, records } of invocations) {
          const fresh = batch();
          for (const m of [reused.metrics, fresh.metrics]) {
            for (const r of records) {
              const dimensions = { ...(r.target ? { target: r.target } : {}), ...(r.action ? { action: r.action } : {}) };
              if (r.name === 'TargetLatency') m.timing(r.name, r.value, dimensions);
              else m.count(r.name, dimensions, Math.round(r.value));
            }
            m.flush(at);
          }
          expect(reused.lines.splice(0)).toEqual(fresh.lines);
        }
      }),
      { numRuns: 300 },
    );
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
