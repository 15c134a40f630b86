import { randomUUID } from 'node:crypto';
import type { ConnectionConfig, PropertyConfig } from '../core/config.ts';
import type { FetchHints } from '../core/queue.ts';
import { own } from '../core/own.ts';
import type { Reservation } from '../core/reservation.ts';

/** One webhook delivery as the HTTP front received it: the raw body, before any parsing. */
export interface Delivery {
  rawBody: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** A token from the webhook URL (its last path segment or `?token=`), for URL-token connections (url-token.ts). */
  urlToken?: string;
  /** The address the delivery came from (API Gateway's source IP). */
  sourceIp?: string;
}

export interface SourceContext {
  connectionId: string;
  connection: ConnectionConfig;
  /** Epoch ms. */
  now: number;
}

export interface Verified {
  /**
   * The PMS's own id for this delivery, stable across its retries (e.g. `webhook-id`), if it
   * sends one; or one per receipt for PMSs whose body is only a hint (`receiptDeliveryId`).
   * Absent: a hash of the body.
   */
  deliveryId?: string;
}

/**
 * A thin event: what ingest learnt without calling the PMS. The sync worker completes it from
 * the PMS API (see fetcher.ts); ingest never fetches, so it answers within the PMS's timeout.
 */
export type ThinEvent =
  | { kind: 'reservation_ref'; reservationId: string; propertyId?: string; partial?: Reservation; hints: FetchHints }
  | { kind: 'client_ref'; clientId: string; hints: FetchHints };

export type ParsedDelivery =
  | { kind: 'ignored'; reason: string }
  | { kind: 'reservations'; reservations: Reservation[] }
  | { kind: 'thin'; events: ThinEvent[] };

/**
 * A PMS adapter. `verify` runs on the raw body before any JSON parsing and throws a
 * 401 WebhookError; `parse` throws a 400 WebhookError for a payload it cannot use.
 */
export interface Source {
  verify(delivery: Delivery, secret: unknown, context: SourceContext): Verified;
  parse(body: unknown, context: SourceContext): ParsedDelivery;
}

/**
 * A delivery id unique to this receipt, for PMSs whose webhook is only a hint to re-read the
 * API (Lodgify, Smoobu, Mews). Their bodies can repeat byte for byte while the reservation
 * changes (Mews sends ids only), and SQS FIFO drops a message whose deduplication id it saw in
 * the last 5 minutes: a body hash would lose the later update. A repeated receipt costs one
 * more read, never a wrong write.
 */
export function receiptDeliveryId(): string {
  return `receipt-${randomUUID()}`;
}

export function propertyOf(context: SourceContext, propertyId: string): PropertyConfig | undefined {
  return own(context.connection.properties, propertyId);
}
