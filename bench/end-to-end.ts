import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../infra/local/stack.ts';
import { startTestStack } from '../test/support/stack.ts';
import { benchConfig, postGeneric } from './generic-webhook.ts';
import { median, round } from './stats.ts';

/**
 * End-to-end throughput when no target limit binds, against what the same local SQS can do at
 * all. A: raw SQS, one consumer: send the messages one by one (20 at a time), then receive 10 at a time
 * and delete each batch. B: the pipeline: webhooks in (20 at a time) until every guest is in
 * Minut (its sandbox unlimited), through the local stack's sync worker. C, the ceiling B can reach
 * in this harness: the same webhooks through ingest alone (verified, parsed, queued; no burst
 * parking, which needs sync), taken off the queue as A takes its messages, no sync at all.
 * Interleaved rounds; medians.
 */
export interface EndToEndFigures {
  rounds: number;
  reservations: number;
  reservationsPerSecond: number;
  rawSqsPerSecond: number;
  ratio: number;
  /** C: webhooks through ingest alone, consumed like A; the pipeline with a sync that cost nothing. */
  ingestOnlyPerSecond: number;
  ingestOnlyRatio: number;
}


export async function measureEndToEnd(options: { rounds: number; reservations: number }): Promise<EndToEndFigures> {
  const stack = await startTestStack({ configPath: benchConfig(), minut: { rateLimit: null }, sweepIntervalMs: null });
  // No sync worker and no lanes: only the bench takes messages off this stack's queue.
  const ingestStack = await startTestStack({ configPath: benchConfig({ burstParking: { events: 100_000, windowSeconds: 10, turn: 20 } }), sweepIntervalMs: null, syncWorkers: 0, lanes: false });
  const raw: number[] = [];
  const pipeline: number[] = [];
  const ingestOnly: number[] = [];
  try {
    const rawQueue = (await stack.sqs.send(new CreateQueueCommand({ QueueName: 'bench-raw.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' } }))).QueueUrl!;
    for (let round = 0; round < options.rounds; round++) {
      raw.push(await rawSqs(stack, rawQueue, options.reservations, round));
      pipeline.push(await endToEnd(stack, options.reservations, round));
      ingestOnly.push(await ingestAlone(ingestStack, options.reservations, round));
    }
  } finally {
    await Promise.all([stack.stop(), ingestStack.stop()]);
  }
  const a = median(pipeline);
  const b = median(raw);
  const c = median(ingestOnly);
  return {
    rounds: options.rounds,
    reservations: options.reservations,
    reservationsPerSecond: round(a, 1),
    rawSqsPerSecond: round(b, 1),
    ratio: round(a / b, 2),
    ingestOnlyPerSecond: round(c, 1),
    ingestOnlyRatio: round(c / b, 2),
  };
}

async function rawSqs(stack: LocalStack, queueUrl: string, count: number, round: number): Promise<number> {
  // A body the size of a queued reservation.
  const body = JSON.stringify({ v: 2, kind: 'reservation', padding: 'x'.repeat(900) });
  const started = performance.now();
  // As the pipeline uses SQS: one send per message (ingest sends each delivery), 20 at a time
  // like the webhooks; receives of up to 10 and one batch delete each (the Lambda event source).
  for (let i = 0; i < count; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, (_, j) =>
        stack.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageGroupId: `g-${round}-${i + j}`, MessageDeduplicationId: `raw-${round}-${i + j}` })),
      ),
    );
  }
  await receiveAndDelete(stack, queueUrl, count);
  return count / ((performance.now() - started) / 1000);
}

async function receiveAndDelete(stack: LocalStack, queueUrl: string, count: number): Promise<void> {
  let received = 0;
  while (received < count) {
    const out = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) continue;
    received += messages.length;
    await stack.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

async function ingestAlone(stack: LocalStack, count: number, round: number): Promise<number> {
  const started = performance.now();
  const taken = receiveAndDelete(stack, stack.queueUrl, count);
  await postWebhooks(stack, count, round, 'Ingest');
  await taken;
  return count / ((performance.now() - started) / 1000);
}

/** `count` new reservations as webhooks, 20 at a time; guests named `<firstName> <round>-<i>`. */
async function postWebhooks(stack: LocalStack, count: number, round: number, firstName: string): Promise<void> {
  const ids = Array.from({ length: count }, (_, i) => `${round}-${i}`);
  for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id) => postGeneric(stack, { id: `${firstName.toLowerCase()}-${id}`, guest: { firstName, lastName: id } })));
}

async function endToEnd(stack: LocalStack, count: number, round: number): Promise<number> {
  await stack.drain(120_000);
  const prefix = `E2E ${round}-`;
  const started = performance.now();
  await postWebhooks(stack, count, round, 'E2E');
  const deadline = Date.now() + 600_000;
  while (stack.sandbox.minut.guests('home_demo_city').filter((g) => g.name.startsWith(prefix)).length < count) {
    if (Date.now() > deadline) throw new Error(`bench: round ${round} did not sync in 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return count / ((performance.now() - started) / 1000);
}
