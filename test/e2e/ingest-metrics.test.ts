import { describe, expect, it, vi } from 'vitest';
import { loadConfigFile } from '../../functions/core/config.ts';
import { LocalSecretStore } from '../../functions/core/secrets.ts';
import { createIngestHandler } from '../../functions/ingest/handler-factory.ts';
import { toApiGatewayEvent } from '../../infra/local/http-front.ts';
import { localContext } from '../../infra/local/lambda-context.ts';
import { captureOutput } from '../support/capture-output.ts';
import { hostawayDelivery, HOSTAWAY_AUTH } from '../support/hostaway.ts';

/**
 * What ingest writes to CloudWatch per webhook: one EMF line, the delivery counted once by its
 * outcome (the dashboards stack the outcomes to show what was received). At one invocation per
 * webhook, its bytes are most of the log bill per event (docs/throughput.md).
 */
// Metrics on, as deployed (the test config turns them off), before the metrics batch is created.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit?: string }[] }[] };
  [key: string]: unknown;
}

const OUTCOMES = ['WebhookAccepted', 'WebhookIgnored', 'WebhookRejected', 'WebhookFailed'];

async function ingestOnce(options: { body: Record<string, unknown>; auth?: string; queueFails?: boolean }): Promise<{ status: number; lines: string[] }> {
  const handler = createIngestHandler({
    config: loadConfigFile('config/guest-sync.example.json'),
    now: Date.now,
    secrets: new LocalSecretStore({}, ['config/secrets.example.json']),
    queue: {
      send: async () => {
        if (options.queueFails) throw new Error('SQS down');
      },
      delay: async () => undefined,
      deadLetter: async () => undefined,
    },
  });
  const event = toApiGatewayEvent({
    path: '/webhooks/hostaway-demo',
    connectionId: 'hostaway-demo',
    headers: { 'content-type': 'application/json', authorization: options.auth ?? HOSTAWAY_AUTH },
    body: Buffer.from(JSON.stringify(options.body)),
  });
  const output = captureOutput();
  let status: number;
  try {
    status = (await handler(event, localContext('ingest', 10_000))).statusCode ?? 0;
  } finally {
    output.stop();
  }
  return { status, lines: output.text().split('\n').filter((line) => line.startsWith('{"_aws"')) };
}

describe("ingest's metrics", () => {
  it('counts each webhook once, by its outcome, in one EMF line with the source as dimension', async () => {
    const cases = [
      { outcome: 'WebhookAccepted', status: 202, run: () => ingestOnce({ body: hostawayDelivery('reservation.created') }) },
      { outcome: 'WebhookIgnored', status: 200, run: () => ingestOnce({ body: hostawayDelivery('conversation.message.created') }) },
      { outcome: 'WebhookRejected', status: 401, run: () => ingestOnce({ body: hostawayDelivery('reservation.created'), auth: 'Basic bm9ib2R5Om5vcGU=' }) },
      { outcome: 'WebhookRejected', status: 503, run: () => ingestOnce({ body: hostawayDelivery('reservation.created'), queueFails: true }) },
    ];
    const counted: Record<string, number> = {};
    for (const one of cases) {
      const { status, lines } = await one.run();
      expect(status).toBe(one.status);
      expect(lines).toHaveLength(1);
      const emf = JSON.parse(lines[0]!) as Emf;
      expect(emf.source).toBe('hostaway');
      for (const name of OUTCOMES) if (typeof emf[name] === 'number') counted[name] = (counted[name] ?? 0) + (emf[name] as number);
      // The outcome is per source, like every count ingest writes.
      const directive = emf._aws.CloudWatchMetrics.find((d) => d.Metrics.some((m) => m.Name === one.outcome))!;
      expect(directive.Dimensions[0]).toContain('source');
      expect(emf).not.toHaveProperty('WebhookReceived');
    }
    // Four webhooks, four counts: one each, by outcome.
    expect(counted).toEqual({ WebhookAccepted: 1, WebhookIgnored: 1, WebhookRejected: 2 });
  });

  it('an accepted webhook writes its counts under one dimension set, and what it queued', async () => {
    const { lines } = await ingestOnce({ body: hostawayDelivery('reservation.created') });
    const emf = JSON.parse(lines[0]!) as Emf;
    expect(emf._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'GuestSync',
        Dimensions: [['service', 'source']],
        Metrics: [
          { Name: 'WebhookAccepted', Unit: 'Count' },
          { Name: 'MessagesEnqueued', Unit: 'Count' },
        ],
      },
    ]);
    expect(emf).toMatchObject({ service: 'guest-sync', source: 'hostaway', WebhookAccepted: 1, MessagesEnqueued: 1 });
    // The line a webhook costs in CloudWatch Logs (it was 390 bytes with a received count and a second directive).
    expect(Buffer.byteLength(lines[0]!)).toBeLessThan(320);
  });
});
