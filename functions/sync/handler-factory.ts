import {
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { RetryableError, errorMessage } from '../core/errors.ts';
import { count, logger, MetricUnit, metrics } from '../core/powertools.ts';
import { QueueMessage, reservationIdOf, type Queue } from '../core/queue.ts';
import { syncMessage, type SyncDeps } from './sync.ts';
import { withLatencyMetric } from './target-latency.ts';

export interface SyncHandlerDeps extends SyncDeps {
  /** For backoff: a failed message is hidden for longer than the queue's default. */
  queue: Queue;
  /** The active config and what is built from it, e.g. targets (config without redeploy); the fields above when absent. */
  liveDeps?: () => Promise<Partial<SyncDeps> & Pick<SyncDeps, 'config'>>;
  /** Cap on the backoff set through the visibility timeout; default 15 minutes (tests set it low). */
  maxBackoffSeconds?: number;
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
  const processRecord = async (record: SQSRecord): Promise<void> => {
    let message: QueueMessage;
    try {
      message = QueueMessage.parse(JSON.parse(record.body));
    } catch (error) {
      // Nothing can process it; after maxReceiveCount it reaches the DLQ for a look.
      count('MessageUnparseable');
      logger.error('queue message does not match the schema', { messageId: record.messageId, error: errorMessage(error) });
      throw error;
    }
    logger.appendKeys({
      connectionId: message.connectionId,
      reservationId: reservationIdOf(message),
      ...(message.kind === 'resync' ? { resync: message.reason } : { deliveryId: message.deliveryId }),
    });
    try {
      const outcome = await syncMessage(message, deps, { attempt: Number(record.attributes.ApproximateReceiveCount ?? '1') });
      logger.info('reservation synced', {
        snapshotChanged: outcome.snapshotChanged,
        unrouted: outcome.unrouted,
        targets: outcome.targets,
        ...(message.kind === 'reservation' ? { status: message.reservation.status } : {}),
      });
      if (outcome.retry) {
        await backOff(record, outcome.retry);
        throw outcome.retry;
      }
    } finally {
      logger.removeKeys(['connectionId', 'reservationId', 'deliveryId', 'resync']);
    }
  };

  const backOff = async (record: SQSRecord, error: RetryableError): Promise<void> => {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const cap = deps.maxBackoffSeconds ?? MAX_BACKOFF_SECONDS;
    const exponential = Math.min(cap, 2 ** Math.min(receiveCount, 10));
    const seconds = Math.min(cap, Math.max(error.retryAfterSeconds ?? 0, exponential));
    try {
      await deps.queue.delay(record.receiptHandle, seconds);
    } catch (delayError) {
      // The queue's own visibility timeout still brings it back.
      logger.warn('could not set backoff on the message', { error: errorMessage(delayError) });
    }
  };

  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    metrics.addMetric('MessagesReceived', MetricUnit.Count, event.Records.length);
    if (initialDeps.liveDeps) {
      // If this throws, the whole batch returns to the queue and is retried: better than acting on a stale config.
      const live = { ...initialDeps, ...(await initialDeps.liveDeps()) };
      deps = { ...live, targets: withLatencyMetric(live.targets, live.now) };
    }
    const processor = new SqsFifoPartialProcessorAsync();
    return processPartialResponse(event, processRecord, processor, {
      context,
      skipGroupOnError: true,
      throwOnFullBatchFailure: false,
    });
  };

  return middy(handler).use(injectLambdaContext(logger, { resetKeys: true })).use(logMetrics(metrics));
}
