import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from './zod.ts';
import { sha256Hex } from './hash.ts';
import { LIMITS, Reservation, ReservationId, unknownParty } from './reservation.ts';
import { isObject } from './own.ts';
import { configSchemas } from './config.ts';

/**
 * What goes on the FIFO queue. `v` is the schema version: bump it on any change a previous
 * release could not read, and keep reading the one before (`readQueueMessage`), so a deploy
 * with messages in flight loses nothing. v2 added the party split (`reservation.party`) and
 * the bounds of the canonical model.
 * - `reservation`: a PMS delivery, normalised by ingest.
 * - `resync`: drive the targets toward the stored snapshot again (operator resync, sweep).
 */
export const QUEUE_SCHEMA_VERSION = 2;

/**
 * Receives before SQS moves a message to the DLQ. SQS counts every receive, including the ones
 * where a message was returned untried (a message ahead of it in its group failed, or the
 * invocation had too little time left), so this is not the attempt count: sync counts each
 * target's own failed attempts on its state and parks the work as pending after a few, and
 * sets aside at once what it cannot read. The DLQ is left for what keeps failing before any
 * target is reached (a PMS API that stays down for a notify-then-fetch event: its backoff of
 * 30 s doubling to 15 minutes spans over an hour), so a deferral never costs a message its life.
 */
export const MAX_RECEIVE_COUNT = 10;
/**
 * Concurrent sync invocations per target lane (the SQS event source's minimum is 2): the lane's
 * workers share its account's rate, and while one is between batches (writing states, receiving
 * the next) the other calls, so the lane keeps the whole rate busy.
 */
export const LANE_MAX_CONCURRENCY = 2;

const ConnectionId = z.string().check(z.minLength(1), z.maxLength(64));
const DeliveryId = z.string().check(z.minLength(1), z.maxLength(LIMITS.idLength));

export const ReservationMessage = z.object({
  v: z.literal(QUEUE_SCHEMA_VERSION),
  kind: z.literal('reservation'),
  connectionId: ConnectionId,
  deliveryId: DeliveryId,
  /** Epoch ms when ingest accepted the delivery. */
  receivedAt: z.number(),
  reservation: Reservation,
});
export type ReservationMessage = z.infer<typeof ReservationMessage>;

/** Small source-specific facts a thin event carried (ids, event name, publish time); never guest data. */
export const FetchHints = z
  .record(z.string().check(z.maxLength(64)), z.union([z.string().check(z.maxLength(LIMITS.idLength)), z.number(), z.boolean(), z.null()]))
  .check(z.refine((hints) => Object.keys(hints).length <= 20, 'at most 20 hints'));
export type FetchHints = z.infer<typeof FetchHints>;

/**
 * - `reservation_ref`: a thin event (ids, maybe part of the reservation but no guest). The sync
 *   worker reads the rest from the PMS API, then carries on exactly as for `reservation`.
 */
export const ReservationRefMessage = z.object({
  v: z.literal(QUEUE_SCHEMA_VERSION),
  kind: z.literal('reservation_ref'),
  connectionId: ConnectionId,
  deliveryId: DeliveryId,
  /** Epoch ms when ingest accepted the delivery. */
  receivedAt: z.number(),
  reservationId: ReservationId,
  propertyId: z.optional(ReservationId),
  /** What the event itself said, normalised (guest usually empty); the fetch completes or replaces it. */
  partial: z.optional(Reservation),
  hints: z._default(FetchHints, {}),
});
export type ReservationRefMessage = z.infer<typeof ReservationRefMessage>;

/**
 * - `client_ref`: a PMS guest record changed (Smily `client_updated`): resync that guest's
 *   upcoming reservations. Its message group is the client's (`<connection>#client:<id>`), not a
 *   reservation's, so it never holds back reservation events; see `reservationIdOf`.
 */
export const ClientRefMessage = z.object({
  v: z.literal(QUEUE_SCHEMA_VERSION),
  kind: z.literal('client_ref'),
  connectionId: ConnectionId,
  deliveryId: DeliveryId,
  receivedAt: z.number(),
  clientId: ReservationId,
  hints: z._default(FetchHints, {}),
});
export type ClientRefMessage = z.infer<typeof ClientRefMessage>;

/**
 * The kinds only sync, the sweep and the CLI send: built on first use, so that ingest's cold start
 * builds only the three kinds a webhook can queue (`IngestMessage`, docs/throughput.md).
 */
function buildLaterKinds() {
  const ResyncMessage = z.object({
    v: z.literal(QUEUE_SCHEMA_VERSION),
    kind: z.literal('resync'),
    connectionId: ConnectionId,
    reservationId: ReservationId,
    /** Epoch ms; with the reason, it makes the deduplication id. */
    requestedAt: z.number(),
    /** Who asked and why, e.g. `operator`, `sweep`. */
    reason: z.string().check(z.maxLength(LIMITS.textLength)),
  });

  /**
   * - `erase`: remove the guest of one reservation from every target, delete what guest-sync holds
   *   about it and leave a tombstone (`guest-sync erase`). In the reservation's group, so it runs
   *   after the events queued before it; the ones after it meet the tombstone.
   */
  const EraseMessage = z.object({
    v: z.literal(QUEUE_SCHEMA_VERSION),
    kind: z.literal('erase'),
    connectionId: ConnectionId,
    reservationId: ReservationId,
    /** Epoch ms; it makes the deduplication id. */
    requestedAt: z.number(),
  });

  /**
   * - `offboard`: a route was removed from the config with `offboarding: remove`; remove the guest
   *   guest-sync created at `target`, with the route as it was (`property`, no guest data).
   */
  const OffboardMessage = z.object({
    v: z.literal(QUEUE_SCHEMA_VERSION),
    kind: z.literal('offboard'),
    connectionId: ConnectionId,
    reservationId: ReservationId,
    target: z.string().check(z.maxLength(32)),
    // Built when an offboard message is first parsed: ingest never builds the config's schemas.
    property: z.lazy(() => configSchemas().PropertyConfig),
    requestedAt: z.number(),
  });

  const LocalDate = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/));

  /**
   * - `backfill`: read one page of a connection's upcoming and in-house reservations from the PMS
   *   API and queue each like a webhook (or, dry, plan what each target would get); the next page
   *   is the next message. Its group is the job's (`<connection>#backfill:<job>`).
   */
  const BackfillMessage = z.object({
    v: z.literal(QUEUE_SCHEMA_VERSION),
    kind: z.literal('backfill'),
    connectionId: ConnectionId,
    jobId: z.string().check(z.regex(/^[a-z0-9-]{1,40}$/)),
    propertyId: z.optional(ReservationId),
    from: LocalDate,
    to: LocalDate,
    dryRun: z.boolean(),
    cursor: z.optional(z.string().check(z.maxLength(2000))),
    page: z.int().check(z.nonnegative()),
  });

  /**
   * - `reconcile`: compare what each target holds with what guest-sync applied, for one connection
   *   (or all) and property (or all); repair drift unless a dry run. Its group is the job's.
   */
  const ReconcileMessage = z.object({
    v: z.literal(QUEUE_SCHEMA_VERSION),
    kind: z.literal('reconcile'),
    jobId: z.string().check(z.regex(/^[a-z0-9-]{1,40}$/)),
    /** The job's item and group are keyed by it; `*` when it covers every connection. */
    connectionId: z.union([ConnectionId, z.literal('*')]),
    propertyId: z.optional(ReservationId),
    dryRun: z.boolean(),
    requestedAt: z.number(),
    /** Which connection of the run (in id order) this message does; the next is the next message. */
    step: z._default(z.int().check(z.nonnegative()), 0),
  });

  /**
   * - `drain`: move a turn of a connection's parked burst (parking.ts) to this queue, then queue
   *   the next turn behind it. Its group is the connection's drain (`<connection>#drain:parked`),
   *   so two turns never run at once. A new kind, not a new shape: `v` stays (a release that
   *   cannot read it sets it aside, and the sweep starts the drain again).
   */
  const DrainMessage = z.object({
    v: z.literal(QUEUE_SCHEMA_VERSION),
    kind: z.literal('drain'),
    connectionId: ConnectionId,
    /** The drain's lease holder (Store.holdDrain). */
    drainId: z.string().check(z.regex(/^[a-z0-9-]{1,40}$/)),
    turn: z.int().check(z.nonnegative()),
  });

  /**
   * - `target`: one target's work for one reservation, on that target's lane (its own FIFO queue,
   *   same group as the reservation's), put there by a sync worker that wrote the hand-off mark
   *   `seq` on the target's state first (sync.ts). A lane worker acts only while the mark is
   *   still `seq`. A new kind, not a new shape: `v` stays (a release that cannot read it sets it
   *   aside, and the mark's due time brings the work back through the main queue).
   */
  const TargetWorkMessage = z.object({
    v: z.literal(QUEUE_SCHEMA_VERSION),
    kind: z.literal('target'),
    connectionId: ConnectionId,
    reservationId: ReservationId,
    target: z.string().check(z.regex(/^[a-z0-9-]{1,32}$/)),
    /** The hand-off mark this work belongs to; it also makes the deduplication id. */
    seq: z.string().check(z.regex(/^[a-z0-9-]{1,64}$/)),
  });
  return { ResyncMessage, EraseMessage, OffboardMessage, BackfillMessage, ReconcileMessage, DrainMessage, TargetWorkMessage };
}

type LaterKinds = ReturnType<typeof buildLaterKinds>;
export type ResyncMessage = z.infer<LaterKinds['ResyncMessage']>;
export type EraseMessage = z.infer<LaterKinds['EraseMessage']>;
export type OffboardMessage = z.infer<LaterKinds['OffboardMessage']>;
export type BackfillMessage = z.infer<LaterKinds['BackfillMessage']>;
export type ReconcileMessage = z.infer<LaterKinds['ReconcileMessage']>;
export type DrainMessage = z.infer<LaterKinds['DrainMessage']>;
export type TargetWorkMessage = z.infer<LaterKinds['TargetWorkMessage']>;

/** What a webhook can queue (ingest checks each message against it before sending), the same schemas sync reads. */
export const IngestMessage = z.discriminatedUnion('kind', [ReservationMessage, ReservationRefMessage, ClientRefMessage]);
export type IngestMessage = z.infer<typeof IngestMessage>;
const ingestKindNames = ['reservation', 'reservation_ref', 'client_ref'] as const satisfies readonly IngestMessage['kind'][];
// Checked: every kind of IngestMessage is listed above.
const everyIngestKindListed: [Exclude<IngestMessage['kind'], (typeof ingestKindNames)[number]>] extends [never] ? true : false = true;
void everyIngestKindListed;
const ingestKinds: ReadonlySet<unknown> = new Set(ingestKindNames);

function buildQueueMessage() {
  const later = buildLaterKinds();
  return z.discriminatedUnion('kind', [ReservationMessage, later.ResyncMessage, ReservationRefMessage, ClientRefMessage, later.EraseMessage, later.OffboardMessage, later.BackfillMessage, later.ReconcileMessage, later.DrainMessage, later.TargetWorkMessage]);
}
let queueMessage: ReturnType<typeof buildQueueMessage> | undefined;
/** Every kind of message the queues carry, as sync reads them; built on the first read. */
export function queueMessageSchema(): ReturnType<typeof buildQueueMessage> {
  return (queueMessage ??= buildQueueMessage());
}
export type QueueMessage = z.infer<ReturnType<typeof buildQueueMessage>>;

/**
 * A queue body of this release or the previous one, as this release's message; undefined with
 * the reason when it is neither (sync then sets it aside in the DLQ at once).
 */
export function readQueueMessage(body: string): { message: QueueMessage } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: 'the body is not JSON' };
  }
  const upgraded = upgradeMessage(json);
  // A webhook's kinds are read with the same schemas on their own, so a worker whose first
  // message is a reservation builds no other kind (test/unit/queue-adapter.test.ts checks the
  // answers are the union's).
  const result = (isObject(upgraded) && ingestKinds.has(upgraded.kind) ? IngestMessage : queueMessageSchema()).safeParse(upgraded);
  if (result.success) return { message: result.data };
  const issue = result.error.issues[0]!;
  return { error: `${issue.path.map(String).join('.') || 'body'}: ${issue.message}` };
}

/** v1 → v2: v1 had no party split (and no bounds: a v1 message out of bounds stays unreadable). */
function upgradeMessage(json: unknown): unknown {
  if (!isObject(json) || json.v !== 1) return json;
  const withParty = (r: unknown) => (isObject(r) && !('party' in r) ? { ...r, party: unknownParty } : r);
  return {
    ...json,
    v: QUEUE_SCHEMA_VERSION,
    ...('reservation' in json ? { reservation: withParty(json.reservation) } : {}),
    ...('partial' in json ? { partial: withParty(json.partial) } : {}),
  };
}

/** The reservation a message is about; for a `client_ref`, `client:<id>` (its own group and state key). */
export function reservationIdOf(message: QueueMessage): string {
  if (message.kind === 'client_ref') return `client:${message.clientId}`;
  if (message.kind === 'backfill') return `backfill:${message.jobId}`;
  if (message.kind === 'reconcile') return `reconcile:${message.jobId}`;
  if (message.kind === 'drain') return 'drain:parked';
  return message.kind === 'reservation' ? message.reservation.reservationId : message.reservationId;
}

function deduplicationKey(message: QueueMessage): string {
  if (message.kind === 'resync') return `resync:${message.reason}:${message.requestedAt}`;
  if (message.kind === 'backfill') return `backfill:${message.jobId}:${message.page}`;
  if (message.kind === 'reconcile') return `reconcile:${message.jobId}:${message.step}`;
  if (message.kind === 'offboard') return `offboard:${message.target}:${message.requestedAt}`;
  if (message.kind === 'drain') return `drain:${message.drainId}:${message.turn}`;
  if (message.kind === 'target') return `target:${message.target}:${message.seq}`;
  return message.kind === 'erase' ? `erase:${message.requestedAt}` : message.deliveryId;
}

/** SQS's rule for group and deduplication ids: 1–128 characters of a-z, A-Z, 0-9 and ASCII punctuation. */
const SQS_ID = /^[\x21-\x7E]{1,128}$/;
/** SQS's rule for a message body: these characters only, at most 256 KiB. */
const SQS_BODY_CHARACTERS = /^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
export const SQS_MAX_BODY_BYTES = 262_144;

/**
 * One message group per reservation, so no two workers touch the same reservation at once.
 * Ids are whatever a PMS sends; a group id that SQS would refuse (over 128 characters, spaces,
 * non-ASCII) becomes a hash of the whole id. Connection ids never hold "#" or ":", so a
 * hashed group ("<connection>#sha256:<hex>") never equals a plain one unless the PMS's own id
 * is that very hash.
 */
/** An id SQS accepts as is (1–128 printable ASCII), or a stable hash of it. */
export function sqsSafeId(id: string): string {
  return SQS_ID.test(id) ? id : `sha256:${sha256Hex(id)}`;
}

export function messageGroupId(connectionId: string, reservationId: string): string {
  const id = `${connectionId}#${reservationId}`;
  return SQS_ID.test(id) && !reservationId.startsWith('sha256:') ? id : `${connectionId}#sha256:${sha256Hex(reservationId)}`;
}

/** Per delivery and reservation, so a PMS retry of the same delivery is dropped by SQS within 5 minutes. */
export function deduplicationId(deliveryId: string, reservationId: string): string {
  return sha256Hex(`${deliveryId}\n${reservationId}`);
}

/**
 * A message body as JSON that both SQS and the local stand-in carry: characters above U+FFFF
 * (which SQS accepts but fauxqs refuses) are written as JSON escapes of their surrogate pairs,
 * which `JSON.parse` turns back into the same characters. Everything else was made carriable
 * by the model (text.ts).
 */
export function messageBody(message: QueueMessage): string {
  return JSON.stringify(message).replace(/[\u{10000}-\u{10FFFF}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}\\u${c.charCodeAt(1).toString(16)}`);
}

/** Checks an SQS entry against SQS's documented rules; the reason it breaks one, or undefined. */
export function sqsEntryProblem(entry: { MessageBody: string; MessageGroupId: string; MessageDeduplicationId: string }): string | undefined {
  if (!SQS_ID.test(entry.MessageGroupId)) return 'MessageGroupId is not 1-128 ASCII letters, digits or punctuation';
  if (!SQS_ID.test(entry.MessageDeduplicationId)) return 'MessageDeduplicationId is not 1-128 ASCII letters, digits or punctuation';
  if (!SQS_BODY_CHARACTERS.test(entry.MessageBody)) return 'MessageBody holds characters SQS does not accept';
  if (Buffer.byteLength(entry.MessageBody, 'utf8') > SQS_MAX_BODY_BYTES) return `MessageBody is over ${SQS_MAX_BODY_BYTES} bytes`;
  return undefined;
}

/** The SQS entry for a message: body, group and deduplication id. */
export function sqsEntry(message: QueueMessage): { MessageBody: string; MessageGroupId: string; MessageDeduplicationId: string } {
  return {
    MessageBody: messageBody(message),
    MessageGroupId: messageGroupId(message.connectionId, reservationIdOf(message)),
    MessageDeduplicationId: deduplicationId(deduplicationKey(message), reservationIdOf(message)),
  };
}

export interface Queue {
  send(messages: QueueMessage[]): Promise<void>;
  /** Whether `target` has a lane (its own queue and workers); none in a setup without lanes. */
  hasLane?(target: string): boolean;
  /** Puts one target's work on that target's lane. */
  sendToLane?(message: TargetWorkMessage): Promise<void>;
  /** Whether a record's `eventSourceARN` names one of the lanes (not the main queue). */
  isLane?(sourceArn: string | undefined): boolean;
  /**
   * Hide a received message for `seconds` more: the backoff for a retry. `sourceArn` (the
   * record's `eventSourceARN`) names the queue it came from: the main one or a lane.
   */
  delay(receiptHandle: string, seconds: number, sourceArn?: string): Promise<void>;
  /** Puts a body nothing can process in the DLQ, in its group, with the reason as an attribute. */
  deadLetter(body: string, groupId: string, reason: string): Promise<void>;
}

export class SqsQueue implements Queue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterUrl?: string,
    /** Target name → the queue URL of its lane. */
    private readonly laneUrls: Readonly<Record<string, string>> = {},
  ) {}

  hasLane(target: string): boolean {
    return Object.hasOwn(this.laneUrls, target);
  }

  isLane(sourceArn: string | undefined): boolean {
    const url = this.queueNamed(sourceArn);
    return url !== undefined && url !== this.queueUrl;
  }

  async sendToLane(message: TargetWorkMessage): Promise<void> {
    if (!this.hasLane(message.target)) throw new Error(`no lane for target ${message.target}`);
    const url = this.laneUrls[message.target]!;
    await this.client.send(new SendMessageCommand({ QueueUrl: url, ...sqsEntry(message) }));
  }

  async send(messages: QueueMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const entries = messages.slice(i, i + 10).map((message, index) => ({ Id: String(index), ...sqsEntry(message) }));
      for (const entry of entries) {
        const problem = sqsEntryProblem(entry);
        // The model's bounds make this unreachable; if it is reached, say why rather than let SQS refuse it.
        if (problem) throw new Error(`refusing to send a message SQS would reject: ${problem}`);
      }
      const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      if (out.Failed && out.Failed.length > 0) {
        throw new Error(`SQS refused ${out.Failed.length} message(s): ${out.Failed.map((f) => f.Code).join(', ')}`);
      }
    }
  }

  async delay(receiptHandle: string, seconds: number, sourceArn?: string): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.urlOf(sourceArn),
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.ceil(seconds))),
      }),
    );
  }

  /** The URL of the queue an ARN names (by queue name, the last part of both) among this worker's queues; the main one by default. */
  private urlOf(arn: string | undefined): string {
    return this.queueNamed(arn) ?? this.queueUrl;
  }

  private queueNamed(arn: string | undefined): string | undefined {
    const name = arn?.split(':').at(-1);
    return name ? [this.queueUrl, ...Object.values(this.laneUrls)].find((url) => url.split('/').at(-1) === name) : undefined;
  }

  async deadLetter(body: string, groupId: string, reason: string): Promise<void> {
    if (!this.deadLetterUrl) throw new Error('no dead-letter queue configured (GUEST_SYNC_DLQ_URL)');
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterUrl,
        MessageBody: body,
        MessageGroupId: sqsSafeId(groupId),
        // Fresh: the DLQ must not drop it as a duplicate of an earlier copy.
        MessageDeduplicationId: sha256Hex(`unreadable\n${Date.now()}\n${Math.random()}\n${body}`),
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 1000) || 'unreadable' } },
      }),
    );
  }
}
