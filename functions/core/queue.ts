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

/** Small source-specific facts a thin event carried (ids, event name, publish time); never guest data. */
export const FetchHints = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
export type FetchHints = z.infer<typeof FetchHints>;

/**
 * - `reservation_ref`: a thin event (ids, maybe part of the reservation but no guest). The sync
 *   worker reads the rest from the PMS API, then carries on exactly as for `reservation`.
 */
export const ReservationRefMessage = z.object({
  v: z.literal(1),
  kind: z.literal('reservation_ref'),
  connectionId: z.string(),
  deliveryId: z.string(),
  /** Epoch ms when ingest accepted the delivery. */
  receivedAt: z.number(),
  reservationId: z.string().min(1),
  propertyId: z.string().min(1).optional(),
  /** What the event itself said, normalised (guest usually empty); the fetch completes or replaces it. */
  partial: Reservation.optional(),
  hints: FetchHints.default({}),
});
export type ReservationRefMessage = z.infer<typeof ReservationRefMessage>;

/**
 * - `client_ref`: a PMS guest record changed (Smily `client_updated`): resync that guest's
 *   upcoming reservations. Its message group is the client's (`<connection>#client:<id>`), not a
 *   reservation's, so it never holds back reservation events; see `reservationIdOf`.
 */
export const ClientRefMessage = z.object({
  v: z.literal(1),
  kind: z.literal('client_ref'),
  connectionId: z.string(),
  deliveryId: z.string(),
  receivedAt: z.number(),
  clientId: z.string().min(1),
  hints: FetchHints.default({}),
});
export type ClientRefMessage = z.infer<typeof ClientRefMessage>;

export const QueueMessage = z.discriminatedUnion('kind', [ReservationMessage, ResyncMessage, ReservationRefMessage, ClientRefMessage]);
export type QueueMessage = z.infer<typeof QueueMessage>;

/** The reservation a message is about; for a `client_ref`, `client:<id>` (its own group and state key). */
export function reservationIdOf(message: QueueMessage): string {
  if (message.kind === 'client_ref') return `client:${message.clientId}`;
  return message.kind === 'reservation' ? message.reservation.reservationId : message.reservationId;
}

function deduplicationKey(message: QueueMessage): string {
  return message.kind === 'resync' ? `resync:${message.reason}:${message.requestedAt}` : message.deliveryId;
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
