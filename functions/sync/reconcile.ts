import { findProperty, type PropertyConfig, type TargetName } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import { classify } from '../core/failure.ts';
import { own } from '../core/own.ts';
import { addDays, utcDate } from '../core/time.ts';
import { count, logger } from '../core/powertools.ts';
import { QUEUE_SCHEMA_VERSION, type BackfillMessage, type ReconcileMessage } from '../core/queue.ts';
import { StaleWriteError, type ReconcileJob, type ReservationKey, type StoredReservation, type TargetState } from '../core/store.ts';
import type { HeldRecord, StatePatch, Target } from '../targets/target.ts';
import { heldByLane } from './state-writer.ts';
import type { SyncDeps, SyncOutcome } from './sync.ts';

/**
 * Reconciliation: for each property and each routed target that can list what it holds, compare
 * the target's records with what guest-sync applied, within the window of the stored stays.
 * - A record we created that is gone or cancelled at the target (`missing`), or edited there
 *   (`edited`, with the names of the fields), or still active for a reservation now cancelled
 *   (`should_be_removed`) is drift: repaired by marking the target's state for a retry and queueing
 *   a resync, so the ordinary sync path (version guard, look-ups, intents) puts it back.
 * - A record guest-sync did not create (or no longer knows) is reported, never touched.
 * - Where the PMS has a list API, a backfill of the connection re-reads its upcoming reservations,
 *   which catches a reservation whose webhook never came.
 * Work a sync is already on (retrying, pending, a permanent refusal) is left to it. A dry run
 * reports without repairing (its list calls are read-only). Paced by each target's shared budget.
 */
export async function reconcileRun(message: ReconcileMessage, deps: SyncDeps): Promise<SyncOutcome> {
  const outcome: SyncOutcome = { snapshotChanged: false, unrouted: false, targets: [] };
  const now = deps.now();
  const job: ReconcileJob = (await deps.store.getReconcileJob(message.jobId)) ?? {
    jobId: message.jobId,
    connectionId: message.connectionId === '*' ? null : message.connectionId,
    propertyId: message.propertyId ?? null,
    dryRun: message.dryRun,
    status: 'running',
    checked: {},
    checkedByConnection: {},
    drift: [],
    unknown: [],
    unchecked: [],
    backfills: [],
    lastError: null,
    startedAt: now,
    updatedAt: now,
  };
  if (job.status !== 'running') return outcome;
  // One connection per message (the job's group orders them), so a run over many connections
  // never has to fit one invocation; the next connection is the next message.
  const connections = message.connectionId === '*' ? Object.keys(deps.config.connections).sort() : [message.connectionId];
  const connectionId = connections[message.step];
  // A retried step starts its part of the report again: repairs are safe to repeat.
  const mine = (entry: { connectionId: string }) => entry.connectionId === connectionId;
  Object.assign(job, { drift: job.drift.filter((d) => !mine(d)), unknown: job.unknown.filter((u) => !mine(u)), backfills: job.backfills.filter((b) => !b.startsWith(`${message.jobId}-${message.step}-`)) });
  if (connectionId !== undefined) job.checkedByConnection[connectionId] = {};
  job.checked = totalChecked(job);
  try {
    if (connectionId !== undefined) {
      const byProperty = new Map<string, StoredReservation[]>();
      for (const stored of await deps.store.scanReservations(connectionId)) {
        const propertyId = stored.snapshot?.reservation.propertyId;
        if (!propertyId || (message.propertyId && propertyId !== message.propertyId)) continue;
        byProperty.set(propertyId, [...(byProperty.get(propertyId) ?? []), stored]);
      }
      for (const [propertyId, stored] of byProperty) {
        const property = findProperty(deps.config, connectionId, propertyId);
        if (!property || property.mode === 'shadow') continue;
        for (const name of Object.keys(property.targets) as TargetName[]) {
          const target = own(deps.targets, name);
          if (!target) continue;
          if (!target.reconciliation) {
            if (!job.unchecked.includes(name)) job.unchecked.push(name);
            continue;
          }
          await compareTarget(target, property, connectionId, propertyId, stored, job, message, deps);
        }
      }
      // Where the PMS lists, re-read its upcoming stays: a webhook it never sent is caught too.
      if (deps.fetchers?.(connectionId)?.listReservations && deps.queue) {
        const backfillId = `${message.jobId}-${message.step}-pms`;
        const today = utcDate(deps.now());
        const to = addDays(today, 365);
        const backfill: BackfillMessage = { v: QUEUE_SCHEMA_VERSION, kind: 'backfill', connectionId, jobId: backfillId, from: today, to, dryRun: message.dryRun, page: 0, ...(message.propertyId ? { propertyId: message.propertyId } : {}) };
        await deps.queue.send([backfill]);
        job.backfills.push(backfillId);
      }
    }
    if (message.step + 1 < connections.length && deps.queue) {
      // The next connection first, then the progress: a crash in between redoes this step, never skips one.
      await deps.queue.send([{ ...message, step: message.step + 1 }]);
      await deps.store.putReconcileJob({ ...job, lastError: null, updatedAt: deps.now() });
      return outcome;
    }
  } catch (error) {
    const failure = classify(error);
    logger.warn('reconciliation failed; it will be retried', { code: failure.code, error: failure.message });
    await deps.store.putReconcileJob({ ...job, lastError: `${failure.code}: ${failure.message}`, updatedAt: deps.now() });
    return { ...outcome, retry: error instanceof RetryableError ? error : new RetryableError(failure.message, failure.retryAfterSeconds ?? 60, failure.code, { cause: error }) };
  }
  await deps.store.putReconcileJob({ ...job, status: 'done', lastError: null, updatedAt: deps.now() });
  count('ReconcileRuns');
  logger.info('reconciliation done', { drift: job.drift.length, unknown: job.unknown.length, dryRun: job.dryRun });
  return outcome;
}

/** Records compared per target, over every connection's step. */
function totalChecked(job: ReconcileJob): Record<string, number> {
  const total: Record<string, number> = {};
  for (const counts of Object.values(job.checkedByConnection)) for (const [target, n] of Object.entries(counts)) total[target] = (total[target] ?? 0) + n;
  return total;
}

async function compareTarget(target: Target, property: PropertyConfig, connectionId: string, propertyId: string, stored: StoredReservation[], job: ReconcileJob, message: ReconcileMessage, deps: SyncDeps): Promise<void> {
  const name = target.name;
  const withState = stored.flatMap((r) => {
    const state = r.states.find((s) => s.target === name);
    return state && r.snapshot ? [{ key: r.key, reservation: r.snapshot.reservation, state }] : [];
  });
  if (withState.length === 0) return;
  const from = withState.map((r) => r.reservation.stay.checkInDate).sort()[0]!;
  const to = withState.map((r) => r.reservation.stay.checkOutDate).sort().at(-1)!;
  const records = await target.reconciliation!.list(property, { from, to });
  const counted = (job.checkedByConnection[connectionId] ??= {});
  counted[name] = (counted[name] ?? 0) + records.length;
  job.checked = totalChecked(job);
  const byId = new Map(records.map((r) => [r.id, r]));
  const known = new Set<string>();

  for (const { key, reservation, state } of withState) {
    const id = target.reconciliation!.idOf(state.targetIds);
    const record: HeldRecord<Record<string, unknown>> | undefined = id ? byId.get(id) : undefined;
    if (id) known.add(id);
    // Not ours to judge: a native guest, a property in review, a guest left by offboarding, or work a sync is on.
    if ((state.status !== 'synced' && state.status !== 'absent') || heldByLane(state, deps.now()) !== undefined) continue;
    let desired: Record<string, unknown> | null;
    try {
      desired = target.desired(reservation, property);
    } catch {
      continue;
    }
    let kind: string | undefined;
    let fields: string[] | undefined;
    if (desired !== null && state.status === 'synced') {
      if (!record || !record.active) kind = 'missing';
      else if ((fields = record.differs(desired).sort()).length > 0) kind = 'edited';
    } else if (desired === null && record?.active) {
      kind = 'should_be_removed';
    }
    if (!kind) continue;
    job.drift.push({ connectionId: key.connectionId, reservationId: key.reservationId, target: name, kind, ...(fields && fields.length > 0 ? { fields } : {}) });
    count('DriftFound', { target: name, kind });
    if (!message.dryRun) await repair(key, state, kind, target.reconciliation!.repairPatch?.(kind) ?? {}, deps);
  }

  for (const record of records) {
    if (known.has(record.id)) continue;
    const why = record.readonly
      ? "a native integration's guest"
      : record.ours
        ? `marked as guest-sync's (${record.ours.connectionId}/${record.ours.reservationId}) but not the record it holds for that reservation`
        : 'not created by guest-sync';
    job.unknown.push({ connectionId, target: name, propertyId, id: record.id, why });
  }
}

/** Marks the target's state for a retry and queues a resync: the ordinary sync path repairs it. */
async function repair(key: ReservationKey, state: TargetState, kind: string, patch: StatePatch, deps: SyncDeps): Promise<void> {
  const at = deps.now();
  try {
    await deps.store.putTargetState(key, {
      ...state,
      ...patch,
      // A new epoch for idempotency keys: a write identical to an earlier one must be made again.
      targetIds: { ...(patch.targetIds ?? state.targetIds), epoch: String(at) },
      status: 'retrying',
      lastError: { code: `drift_${kind}`, message: `reconciliation found the record ${kind.replaceAll('_', ' ')} at the target`, permanent: false, at },
      updatedAt: at,
      version: state.version + 1,
    });
  } catch (error) {
    if (error instanceof StaleWriteError) return; // a sync is writing it right now: it will see the target as it is
    throw error;
  }
  await deps.queue?.send([{ v: QUEUE_SCHEMA_VERSION, kind: 'resync', connectionId: key.connectionId, reservationId: key.reservationId, requestedAt: at, reason: 'reconcile' }]);
  count('DriftRepaired', { target: state.target });
}
