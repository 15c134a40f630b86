import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BUDGET_MARGIN_MS, BudgetExceededError, remainingMs, withDeadline } from '../core/budget.ts';
import { RetryableError, errorMessage } from '../core/errors.ts';
import { count, logger, publishMetrics, withLogKeys } from '../core/powertools.ts';
import { processFifoBatch } from './fifo-batch.ts';
import { readQueueMessage, reservationIdOf, type Queue, type QueueMessage } from '../core/queue.ts';
import { LIMITS } from '../core/reservation.ts';
import type { ReservationKey } from '../core/store.ts';
import { releaseIdleShares, syncMessage, type SyncDeps } from './sync.ts';
import { withLatencyMetric } from './target-latency.ts';
import { TraceBatch } from './trace.ts';

export interface SyncHandlerDeps extends SyncDeps {
  /** For backoff: a failed message is hidden for longer than the queue's default. */
  queue: Queue;
  /** The active config and what is built from it, e.g. targets (config without redeploy); the fields above when absent. */
  liveDeps?: () => Promise<Partial<SyncDeps> & Pick<SyncDeps, 'config'>>;
  /** Cap on the backoff set through the visibility timeout; default 15 minutes (tests set it low). */
  maxBackoffSeconds?: number;
}

/** One bounded attempt at a message: a request at its full timeout plus pacing. */
const MIN_RECORD_MS = 15_000;

/** A little longer than the DLQ keeps a message (14 days). */
const UNREADABLE_TTL_SECONDS = 15 * 86_400;

/** The reservation an unreadable body names, if it names one plainly. */
function reservationNamedIn(body: string): ReservationKey | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const m = json as { connectionId?: unknown; reservationId?: unknown; reservation?: { reservationId?: unknown } };
  const reservationId = typeof m.reservationId === 'string' ? m.reservationId : m.reservation?.reservationId;
  const short = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= LIMITS.idLength;
  return short(m.connectionId) && short(reservationId) ? { connectionId: m.connectionId, reservationId } : undefined;
}

/** The log key that says what a message is: a delivery, a resync, an operator job, an erasure or offboarding. */
function whatItIs(message: QueueMessage): Record<string, string | boolean> {
  switch (message.kind) {
    case 'resync':
      return { resync: message.reason };
    case 'erase':
    case 'offboard':
      return { [message.kind]: true };
    case 'backfill':
    case 'reconcile':
      return { job: message.jobId };
    case 'drain':
      return { drain: message.drainId };
    case 'target':
      return { lane: message.target };
    default:
      return { deliveryId: message.deliveryId };
  }
}

/** What a batch's messages did at the targets, by action (`created`, `updated`, `pending`…), for its one log line. */
interface BatchTally {
  actions: Record<string, number>;
}

/** Longest backoff we set through the visibility timeout. */
const MAX_BACKOFF_SECONDS = 15 * 60;

/**
 * The queue worker: each SQS record is one reservation event, processed in group order
 * with FIFO semantics (a failure holds back only the later messages of the same
 * reservation) and reported as a partial batch failure.
 */
export function createSyncHandler(initialDeps: SyncHandlerDeps) {
  // Refreshed from `liveDeps` at the start of each invocation (one at a time per instance).
  let deps: SyncHandlerDeps = { ...initialDeps, targets: withLatencyMetric(initialDeps.targets, initialDeps.now) };
  const processRecord = async (record: SQSRecord, tally: BatchTally): Promise<void> => {
    // Not started when too little time is left for one bounded attempt: it comes back untouched.
    if (remainingMs() < MIN_RECORD_MS) throw new BudgetExceededError('start another message');
    const read = readQueueMessage(record.body);
    if ('error' in read) return setAside(record, read.error);
    const message: QueueMessage = read.message;
    // Per message, not per logger: messages of other reservations run at the same time.
    const keys = {
      connectionId: message.connectionId,
      reservationId: reservationIdOf(message),
      ...whatItIs(message),
    };
    await withLogKeys(keys, async () => {
      const outcome = await syncMessage(message, deps, { attempt: Number(record.attributes.ApproximateReceiveCount ?? '1') });
      for (const t of outcome.targets) tally.actions[t.action] = (tally.actions[t.action] ?? 0) + 1;
      // Debug only: the trace keeps each message's steps, and a failure is logged where it happens.
      logger.debug('reservation synced', {
        snapshotChanged: outcome.snapshotChanged,
        unrouted: outcome.unrouted,
        targets: outcome.targets,
        ...(message.kind === 'reservation' ? { status: message.reservation.status } : {}),
      });
      if (outcome.retry) {
        await backOff(record, outcome.retry);
        throw outcome.retry;
      }
    });
  };

  /**
   * A body no schema version this release knows can parse: no retry can help, so it goes to the
   * DLQ at once (same group, fresh deduplication id) instead of holding up its group for five
   * receives. The reason is logged, counted (alarm) and recorded next to the reservation the
   * body names; `guest-sync replay-dlq` brings it back once a release can read it.
   */
  const setAside = async (record: SQSRecord, reason: string): Promise<void> => {
    const groupId = record.attributes.MessageGroupId ?? `unreadable#${record.messageId}`;
    logger.error('queue message cannot be read by this release; set aside in the DLQ', { messageId: record.messageId, reason });
    await deps.queue.deadLetter(record.body, groupId, reason); // if this fails, the message is retried
    count('MessageUnparseable');
    const key = reservationNamedIn(record.body);
    if (key) {
      await deps.store
        .recordUnreadable(key, { messageId: record.messageId, reason, at: deps.now(), ttl: Math.floor(deps.now() / 1000) + UNREADABLE_TTL_SECONDS })
        .catch((error: unknown) => logger.warn('could not record why the message was set aside', { error: errorMessage(error) }));
    }
  };

  const backOff = async (record: SQSRecord, error: RetryableError): Promise<void> => {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const cap = deps.maxBackoffSeconds ?? MAX_BACKOFF_SECONDS;
    // Receives also count the times a message came back untried (its group blocked, no time
    // left), so the exponent stops early: long waits are the targets' (parked) and the PMS
    // fetch's (its own Retry-After), not the message's.
    const exponential = Math.min(cap, 2 ** Math.min(receiveCount, 5));
    const seconds = Math.min(cap, Math.max(error.retryAfterSeconds ?? 0, exponential));
    try {
      await deps.queue.delay(record.receiptHandle, seconds, record.eventSourceARN);
    } catch (delayError) {
      // The queue's own visibility timeout still brings it back.
      logger.warn('could not set backoff on the message', { error: errorMessage(delayError) });
    }
  };

  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    count('MessagesReceived', {}, event.Records.length);
    if (initialDeps.liveDeps) {
      // If this throws, the whole batch returns to the queue and is retried: better than acting on a stale config.
      const live = { ...initialDeps, ...(await initialDeps.liveDeps()) };
      deps = { ...live, targets: withLatencyMetric(live.targets, live.now) };
    }
    // The invocation's trace steps are written together once the batch is done.
    const traceBatch = new TraceBatch();
    deps = { ...deps, traceBatch };
    // Every wait and request below is capped by what is left of this invocation (budget.ts).
    const deadline = Date.now() + context.getRemainingTimeInMillis() - BUDGET_MARGIN_MS;
    const tally: BatchTally = { actions: {} };
    let failed: number | undefined;
    try {
      const response = await withDeadline(deadline, () => processFifoBatch(event.Records, (record) => processRecord(record, tally)));
      failed = response.batchItemFailures.length;
      // A main worker going idle gives its rate back to a busy lane; a lane keeps its own (a new one waits to be admitted).
      if (!event.Records.some((record) => deps.queue.isLane?.(record.eventSourceARN))) await releaseIdleShares(deps.targets, deps.now());
      return response;
    } finally {
      await traceBatch.flush(deps.store);
      // One line per batch, not per message: logs are billed by the byte.
      logger.info('batch synced', { messages: event.Records.length, ...(failed !== undefined ? { failed } : {}), actions: tally.actions });
    }
  };

  return middy(handler).use(injectLambdaContext(logger, { resetKeys: true })).use(publishMetrics());
}
