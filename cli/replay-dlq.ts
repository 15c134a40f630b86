import { ChangeMessageVisibilityCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { sha256Hex } from '../functions/core/hash.ts';
import { messageGroupId, readQueueMessage, reservationIdOf, type QueueMessage } from '../functions/core/queue.ts';
import type { CliContext } from './env.ts';
import { progressBar } from './progress.ts';

export interface ReplayCounts {
  replayed: number;
  /** Left in the DLQ because they belong to another connection (`--connection`). */
  skipped: number;
  /** Left in the DLQ: the body is not a queue message guest-sync can read; replaying cannot help. */
  unreadable: number;
}

/** Long enough to finish a pass; skipped messages are released at the end. */
const HOLD_SECONDS = 300;

/**
 * `guest-sync replay-dlq [--connection id]`: moves DLQ messages back to the queue. Each gets a
 * FRESH deduplication id: the FIFO queue drops a message whose id it saw in the last 5 minutes,
 * and a message usually reaches the DLQ sooner than that. The group id stays the reservation's,
 * so order per reservation holds. A message is deleted from the DLQ only after the send worked.
 */
export async function replayDlq(ctx: CliContext, options: { connection?: string; max?: number; includeUnreadable?: boolean }, out: (line: string) => void, now: () => number = Date.now): Promise<ReplayCounts> {
  const dlqUrl = ctx.need('GUEST_SYNC_DLQ_URL');
  const queueUrl = ctx.need('GUEST_SYNC_QUEUE_URL');
  const sqs = ctx.sqs;
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  const waiting = Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0);
  // Only what was waiting when the replay began: a message that comes straight back (sync sets
  // aside what it still cannot read) must not be replayed again and again.
  const limit = Math.min(options.max ?? Number.POSITIVE_INFINITY, waiting);
  const replayedBodies = new Set<string>();
  const counts: ReplayCounts = { replayed: 0, skipped: 0, unreadable: 0 };
  const held: Message[] = [];
  const bar = progressBar('replaying DLQ', Math.min(waiting, limit));
  const replayRun = now();
  try {
    let emptyReceives = 0;
    while (counts.replayed < limit && emptyReceives < 2) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: Math.min(10, limit - counts.replayed),
          WaitTimeSeconds: 1,
          VisibilityTimeout: HOLD_SECONDS,
          MessageSystemAttributeNames: ['MessageGroupId'],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) {
        emptyReceives += 1;
        continue;
      }
      emptyReceives = 0;
      for (const message of messages) {
        const parsed = parseMessage(message.Body);
        // After a release that reads it is deployed, an unreadable message goes back in its own group.
        const unreadableGroup = !parsed && options.includeUnreadable && !options.connection ? message.Attributes?.MessageGroupId : undefined;
        const bodyHash = sha256Hex(message.Body ?? '');
        if (replayedBodies.has(bodyHash)) {
          held.push(message); // came back during this replay: leave it for a look
          counts.unreadable += parsed ? 0 : 1;
          counts.skipped += parsed ? 1 : 0;
        } else if (!parsed && !unreadableGroup) {
          counts.unreadable += 1;
          held.push(message);
        } else if (parsed && options.connection && parsed.connectionId !== options.connection) {
          counts.skipped += 1;
          held.push(message);
        } else {
          await sqs.send(
            new SendMessageCommand({
              QueueUrl: queueUrl,
              MessageBody: message.Body!,
              MessageGroupId: message.Attributes?.MessageGroupId ?? messageGroupId(parsed!.connectionId, reservationIdOf(parsed!)),
              MessageDeduplicationId: sha256Hex(`replay\n${replayRun}\n${message.MessageId ?? message.ReceiptHandle}`),
            }),
          );
          await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
          replayedBodies.add(bodyHash);
          counts.replayed += 1;
        }
        bar.increment();
      }
    }
  } finally {
    bar.stop();
    // Messages we left alone become visible again at once, for the next replay or a look.
    for (const message of held) {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 })).catch(() => undefined);
    }
  }
  out(`replayed ${counts.replayed}, left in the DLQ: ${counts.skipped} of other connections, ${counts.unreadable} unreadable`);
  return counts;
}

function parseMessage(body: string | undefined): QueueMessage | undefined {
  if (body === undefined) return undefined;
  const read = readQueueMessage(body);
  return 'message' in read ? read.message : undefined;
}
