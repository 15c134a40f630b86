import { findProperty, type TargetName } from '../core/config.ts';
import { fitReservation } from '../core/bounds.ts';
import { RetryableError, errorMessage } from '../core/errors.ts';
import { classify } from '../core/failure.ts';
import { fingerprint } from '../core/hash.ts';
import { own } from '../core/own.ts';
import { count, logger } from '../core/powertools.ts';
import { QUEUE_SCHEMA_VERSION, type BackfillMessage, type QueueMessage } from '../core/queue.ts';
import { Reservation } from '../core/reservation.ts';
import type { BackfillJob } from '../core/store.ts';
import type { SyncDeps, SyncOutcome } from './sync.ts';

/**
 * One page of a backfill (`guest-sync backfill`): read the connection's reservations staying in
 * the window from the PMS API (paced by the connection's reader), then queue each exactly like a
 * webhook delivery, so the snapshot's version guard and the targets' fingerprints decide what
 * happens: a second run changes nothing, and a snapshot never goes back to an older version.
 * A dry run plans instead: per routed target, would it create, update, remove or do nothing.
 * The job's item records progress; the next page is the next message of the job's group, so a
 * failed page is retried from its own cursor (resumable, also after a DLQ replay).
 */

/** Planned calls a dry run keeps for the report (the counts cover all). */
const MAX_PLANNED = 200;

export async function backfillPage(message: BackfillMessage, deps: SyncDeps): Promise<SyncOutcome> {
  const outcome: SyncOutcome = { snapshotChanged: false, unrouted: false, targets: [] };
  const now = deps.now();
  const job: BackfillJob = (await deps.store.getBackfillJob(message.jobId)) ?? {
    jobId: message.jobId,
    connectionId: message.connectionId,
    propertyId: message.propertyId ?? null,
    from: message.from,
    to: message.to,
    dryRun: message.dryRun,
    status: 'queued',
    pages: 0,
    listed: 0,
    queued: 0,
    unrouted: 0,
    total: null,
    plan: {},
    planned: [],
    lastError: null,
    startedAt: now,
    updatedAt: now,
  };
  // A page already counted (its message came back after the job moved on): nothing to redo.
  if (job.status === 'done' || job.status === 'failed' || job.pages > message.page) return outcome;

  const fetcher = deps.fetchers?.(message.connectionId);
  if (!fetcher?.listReservations || !deps.queue) {
    const pms = own(deps.config.connections, message.connectionId)?.pms ?? 'unknown';
    await deps.store.putBackfillJob({ ...job, status: 'failed', lastError: `connection "${message.connectionId}" (${pms}) has no PMS API to list reservations from (see docs/pms-sources.md)`, updatedAt: now });
    return outcome;
  }

  let reservations: Reservation[];
  let next: string | undefined;
  let total: number | undefined;
  try {
    const page = await fetcher.listReservations({ from: message.from, to: message.to, ...(message.propertyId ? { propertyId: message.propertyId } : {}), ...(message.cursor ? { cursor: message.cursor } : {}) });
    // What a PMS API returns meets the same bounds as a webhook.
    reservations = page.reservations
      .filter((r) => !message.propertyId || r.propertyId === message.propertyId)
      .map((r) => Reservation.parse(fitReservation(r, { maxStayNights: deps.config.maxStayNights })));
    next = page.next;
    total = page.total;
  } catch (error) {
    const failure = classify(error);
    logger.warn('backfill: listing reservations failed; the page will be retried', { code: failure.code, error: failure.message });
    await deps.store.putBackfillJob({ ...job, status: 'running', lastError: `${failure.code}: ${failure.message}`, updatedAt: deps.now() });
    return { ...outcome, retry: error instanceof RetryableError ? error : new RetryableError(failure.message, failure.retryAfterSeconds ?? 30, failure.code, { cause: error }) };
  }

  const unrouted = reservations.filter((r) => !findProperty(deps.config, r.connectionId, r.propertyId)).length;
  const updated: BackfillJob = { ...job, status: next ? 'running' : 'done', pages: message.page + 1, listed: job.listed + reservations.length, unrouted: job.unrouted + unrouted, total: total ?? job.total, lastError: null, updatedAt: deps.now() };
  if (message.dryRun) {
    await plan(reservations, updated, deps);
  } else {
    const deliveries: QueueMessage[] = reservations.map((reservation) => ({ v: QUEUE_SCHEMA_VERSION, kind: 'reservation', connectionId: message.connectionId, deliveryId: `backfill:${message.jobId}`, receivedAt: deps.now(), reservation }));
    await deps.queue.send(deliveries);
    updated.queued += deliveries.length;
    count('BackfillQueued', {}, deliveries.length);
  }
  // The next page first, then the progress: a crash in between redoes this page, never skips one.
  if (next) await deps.queue.send([{ ...message, cursor: next, page: message.page + 1 }]);
  await deps.store.putBackfillJob(updated);
  return outcome;
}

/** Dry run: what each routed target would get, from the stored state, without calling it. */
async function plan(reservations: Reservation[], job: BackfillJob, deps: SyncDeps): Promise<void> {
  for (const reservation of reservations) {
    const property = findProperty(deps.config, reservation.connectionId, reservation.propertyId);
    if (!property) continue;
    const states = new Map((await deps.store.listTargetStates(reservation)).map((s) => [s.target, s]));
    for (const name of Object.keys(property.targets) as TargetName[]) {
      const target = own(deps.targets, name);
      if (!target) continue;
      const state = states.get(name);
      let action: string;
      try {
        const desired = target.desired(reservation, property);
        const exists = !!state && Object.keys(state.targetIds).length > 0 && state.status !== 'absent';
        if (state?.status === 'readonly') action = 'nothing';
        else if (desired === null) action = exists ? 'remove' : 'nothing';
        else if (state?.appliedFingerprint === fingerprint(desired) && state.status === 'synced') action = 'nothing';
        else action = exists ? 'update' : 'create';
      } catch (error) {
        action = 'unmappable';
        logger.info('backfill plan: reservation cannot be expressed for a target', { target: name, error: errorMessage(error) });
      }
      const counts = (job.plan[name] ??= {});
      counts[action] = (counts[action] ?? 0) + 1;
      if (action !== 'nothing' && job.planned.length < MAX_PLANNED) job.planned.push({ reservationId: reservation.reservationId, target: name, action });
    }
  }
}
