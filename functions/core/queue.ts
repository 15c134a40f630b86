import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { sha256Hex } from './hash.ts';
import { Reservation } from './reservation.ts';

/** What ingest puts on the FIFO queue. `v` is the schema version: bump it on any breaking change. */
export const QueueMessage = z.object({
  v: z.literal(1),
  kind: z.literal('reservation'),
  connectionId: z.string(),
  deliveryId: z.string(),
  /** Epoch ms when ingest accepted the delivery. */
  receivedAt: z.number(),
  reservation: Reservation,
});
export type QueueMessage = z.infer<typeof QueueMessage>;

/** One message group per reservation, so no two workers touch the same reservation at once. */
export function messageGroupId(connectionId: string, reservationId: string): string {
  const id = `${connectionId}#${reservationId}`;
  // SQS allows 128 characters; hash anything longer so the group stays stable.
  return id.length <= 128 ? id : `${connectionId.slice(0, 40)}#${sha256Hex(id)}`;
}

/** Per delivery and reservation, so a PMS retry of the same delivery is dropped by SQS within 5 minutes. */
export function deduplicationId(deliveryId: string, reservationId: string): string {
  return sha256Hex(`${deliveryId}\n${reservationId}`);
}

export interface Queue {
  send(messages: QueueMessage[]): Promise<void>;
  /** Hide a received message for `seconds` more: the backoff for a retry. */
  delay(receiptHandle: string, seconds: number): Promise<void>;
}

export class SqsQueue implements Queue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(messages: QueueMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      const out = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify(message),
            MessageGroupId: messageGroupId(message.connectionId, message.reservation.reservationId),
            MessageDeduplicationId: deduplicationId(message.deliveryId, message.reservation.reservationId),
          })),
        }),
      );
      if (out.Failed && out.Failed.length > 0) {
        throw new Error(`SQS refused ${out.Failed.length} message(s): ${out.Failed.map((f) => f.Code).join(', ')}`);
      }
    }
  }

  async delay(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.ceil(seconds))),
      }),
    );
  }
}
