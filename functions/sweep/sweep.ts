import type { Config, TargetName } from '../core/config.ts';
import { restartDrains } from '../core/parking.ts';
import { count, logger } from '../core/powertools.ts';
import { QUEUE_SCHEMA_VERSION, type Queue, type ResyncMessage } from '../core/queue.ts';
import type { ReservationKey, Store } from '../core/store.ts';

/**
 * The scheduled sweep: finds target work that is due (a target paused by the circuit
 * breaker whose retry time has come, a RecepAI check-in or check-out whose instant has
 * come) through the sparse `due` index, and enqueues a `resync` of each such reservation.
 * Sync then drives every target toward the stored snapshot as usual; anything not yet due
 * again simply stays where it is. Re-enqueueing twice is harmless (sync is level-triggered).
 */

export interface SweepDeps {
  config: Config;
  store: Store;
  queue: Queue;
  now: () => number;
  /** Most reservations one run enqueues; the next run takes the rest. */
  maxPerRun?: number;
}

export interface SweepResult {
  due: number;
  enqueued: number;
  drainsRestarted: number;
}

const DEFAULT_MAX_PER_RUN = 2_000;

export async function sweepDue(deps: SweepDeps): Promise<SweepResult> {
  const now = deps.now();
  const max = deps.maxPerRun ?? DEFAULT_MAX_PER_RUN;
  const reservations = new Map<string, ReservationKey>();
  let due = 0;
  for (const target of Object.keys(deps.config.targets) as TargetName[]) {
    if (!deps.config.targets[target]) continue;
    for (const item of await deps.store.listDue(target, now, max)) {
      due++;
      reservations.set(`${item.key.connectionId}#${item.key.reservationId}`, item.key);
    }
  }
  // One message per reservation, however many of its targets are due. `requestedAt` is this
  // run's time, so the deduplication id differs per run: SQS never drops a later re-enqueue.
  const messages: ResyncMessage[] = [...reservations.values()]
    .slice(0, max)
    .map((key) => ({ v: QUEUE_SCHEMA_VERSION, kind: 'resync', connectionId: key.connectionId, reservationId: key.reservationId, requestedAt: now, reason: 'sweep' }));
  if (messages.length > 0) await deps.queue.send(messages);
  count('MessagesEnqueued', {}, messages.length);
  if (due > 0) logger.info('sweep enqueued due reservations', { due, enqueued: messages.length });
  // A drain of parked messages whose chain died (its message set aside) starts again.
  const drainsRestarted = await restartDrains(Object.keys(deps.config.connections), deps);
  return { due, enqueued: messages.length, drainsRestarted };
}

/** The scheduled reconciliation (daily by default): one run over every connection, done by the sync worker. */
export async function queueReconcile(deps: SweepDeps): Promise<{ jobId: string }> {
  const now = deps.now();
  const jobId = `scheduled-${now}`;
  await deps.queue.send([{ v: QUEUE_SCHEMA_VERSION, kind: 'reconcile', jobId, connectionId: '*', dryRun: false, requestedAt: now, step: 0 }]);
  logger.info('reconciliation queued', { jobId });
  return { jobId };
}
