import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { sha256Hex } from './hash.ts';
import { Reservation } from './reservation.ts';

/**
 * What goes on the FIFO queue. `v` is the schema version: bump it on any breaking change.
 * - `reservation`: a PMS delivery, normalised by ingest.
 * - `resync`: drive the targets toward the stored snapshot again (operator resync, sweep).
 */
export const ReservationMessage = z.object({
  v: z.literal(1),
  kind: z.literal('reservation'),
  connectionId: z.string(),
  deliveryId: z.string(),
  /** Epoch ms when ingest accepted the delivery. */
  receivedAt: z.number(),
  reservation: Reservation,
});
export type ReservationMessage = z.infer<typeof ReservationMessage>;

export const ResyncMessage = z.object({
  v: z.literal(1),
  kind: z.literal('resync'),
  connectionId: z.string(),
  reservationId: z.string(),
  /** Epoch ms; with the reason, it makes the deduplication id. */
  requestedAt: z.number(),
  /** Who asked and why, e.g. `operator`, `sweep`. */
  reason: z.string(),
});
export type ResyncMessage = z.infer<typeof ResyncMessage>;

export const QueueMessage = z.discriminatedUnion('kind', [ReservationMessage, ResyncMessage]);
export type QueueMessage = z.infer<typeof QueueMessage>;

/** The reservation a message is about. */
export function reservationIdOf(message: QueueMessage): string {
  return message.kind === 'reservation' ? message.reservation.reservationId : message.reservationId;
}

function deduplicationKey(message: QueueMessage): string {
  return message.kind === 'reservation' ? message.deliveryId : `resync:${message.reason}:${message.requestedAt}`;
}

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
            MessageGroupId: messageGroupId(message.connectionId, reservationIdOf(message)),
            MessageDeduplicationId: deduplicationId(deduplicationKey(message), reservationIdOf(message)),
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
