import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { localContext } from './lambda-context.ts';

/**
 * The local stand-in for Lambda's SQS event source mapping: long-polls the queue, hands
 * the sync handler a real SQS-shaped batch, and deletes only the records it did not
 * report as failed. Failed ones come back when their visibility timeout ends (or the
 * backoff the handler set), and reach the DLQ after maxReceiveCount, as on AWS.
 */

export type SyncHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface Poller {
  /** Batches being processed right now. */
  inFlight(): number;
  stop(): Promise<void>;
}

export function startPoller(options: { sqs: SQSClient; queueUrl: string; queueArn: string; handler: SyncHandler; name: string; onError?: (error: unknown) => void }): Poller {
  let running = true;
  let busy = 0;
  const loop = (async () => {
    while (running) {
      try {
        const out = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) continue;
        busy++;
        try {
          const records = messages.map((m) => toSqsRecord(m, options.queueArn));
          let failed = new Set(records.map((r) => r.messageId));
          try {
            const response = await options.handler({ Records: records }, localContext(options.name, 60_000));
            failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
          } catch (error) {
            options.onError?.(error); // the whole batch failed: every record comes back
          }
          const done = records.filter((r) => !failed.has(r.messageId));
          if (done.length > 0) {
            await options.sqs.send(
              new DeleteMessageBatchCommand({
                QueueUrl: options.queueUrl,
                Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
              }),
            );
          }
        } finally {
          busy--;
        }
      } catch (error) {
        if (!running) break;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  })();
  return {
    inFlight: () => busy,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** A received SQS message as Lambda's event source mapping hands it to the function. */
export function toSqsRecord(m: Message, queueArn: string): SQSRecord {
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: m.Attributes?.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(m.Attributes?.MessageGroupId ? { MessageGroupId: m.Attributes.MessageGroupId } : {}),
      ...(m.Attributes?.MessageDeduplicationId ? { MessageDeduplicationId: m.Attributes.MessageDeduplicationId } : {}),
      ...(m.Attributes?.SequenceNumber ? { SequenceNumber: m.Attributes.SequenceNumber } : {}),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}
