import { findProperty, type TargetName } from '../core/config.ts';
import { classify } from '../core/failure.ts';
import { RetryableError } from '../core/errors.ts';
import { own } from '../core/own.ts';
import { count, logger } from '../core/powertools.ts';
import type { EraseMessage } from '../core/queue.ts';
import { idsOnlyReservation } from '../core/reservation.ts';
import type { ErasureAtTarget, ReservationKey, SnapshotRecord, TargetState, Tombstone } from '../core/store.ts';
import { TargetStateWriter, heldByLane, waitForLane } from './state-writer.ts';
import type { SyncDeps, SyncOutcome } from './sync.ts';

/**
 * Erasure on request (GDPR Art. 17), run by the sync worker for an `erase` message:
 * 1. a tombstone replaces the snapshot first, so no later delivery brings the guest back;
 * 2. each target where guest-sync created the guest gets the same removal a cancellation gets
 *    (Minut: delete; RecepAI: check-out; Kasify, HostelMate: cancel), a guest of a native
 *    integration is left alone, and each result is recorded on the tombstone as it happens;
 * 3. once every target is done, the target states, trace and other items are deleted, and the
 *    tombstone says `erased`, with the report `guest-sync erase` prints. No guest data in it.
 * A transient failure at a target retries the message (its group waits: later deliveries meet
 * the tombstone after it); targets already done are not called again.
 */

export async function eraseReservation(message: EraseMessage, deps: SyncDeps): Promise<SyncOutcome> {
  const key: ReservationKey = { connectionId: message.connectionId, reservationId: message.reservationId };
  const outcome: SyncOutcome = { snapshotChanged: false, unrouted: false, targets: [] };
  const ttl = Math.floor(deps.now() / 1000) + deps.config.retentionDays * 86_400;
  // The snapshot and the tombstone are one item: whichever it holds, read once.
  const item = await deps.store.getSnapshotOrTombstone(key);
  let tombstone = item.tombstone;
  if (tombstone?.status === 'erased' && tombstone.requestedAt >= message.requestedAt) return outcome;
  let snapshot: SnapshotRecord | undefined;
  if (!tombstone || tombstone.status === 'erased') {
    snapshot = item.snapshot;
    tombstone = { requestedAt: message.requestedAt, propertyId: snapshot?.reservation.propertyId ?? tombstone?.propertyId ?? null, status: 'erasing', targets: [] };
    await deps.store.putTombstone(key, tombstone, ttl);
  }
  const save = async (next: Tombstone) => {
    tombstone = next;
    await deps.store.putTombstone(key, next, ttl);
  };

  const property = tombstone.propertyId ? findProperty(deps.config, key.connectionId, tombstone.propertyId) : undefined;
  const reservation = snapshot?.reservation ?? idsOnlyReservation(key, tombstone.propertyId, 'erased');
  const states = await deps.store.listTargetStates(key);
  // A target's lane may be calling it for this reservation: wait for it to hand the work back (it
  // finds the tombstone and stops), so the removal is never raced by a create.
  const laneUntil = Math.max(0, ...states.map((state) => heldByLane(state, deps.now()) ?? 0));
  if (laneUntil > 0) {
    outcome.retry = waitForLane(laneUntil, deps.now(), 'a target lane still holds work for this reservation');
    return outcome;
  }
  for (const state of states) {
    if (tombstone.targets.some((t) => t.target === state.target)) continue; // done on an earlier attempt
    let result: ErasureAtTarget;
    try {
      result = await eraseAt(state);
    } catch (error) {
      const failure = classify(error);
      if (!failure.permanent) {
        logger.warn('erasure at a target failed; retrying', { target: state.target, code: failure.code });
        outcome.targets.push({ target: state.target as TargetName, action: 'failed', error: { code: failure.code, permanent: false } });
        outcome.retry = error instanceof RetryableError ? error : new RetryableError(failure.message, failure.retryAfterSeconds, failure.code, { cause: error });
        return outcome;
      }
      result = { target: state.target, result: 'refused', code: failure.code, note: `${state.target} refused the removal: remove the guest there by hand` };
    }
    outcome.targets.push({ target: state.target as TargetName, action: `erase_${result.result}` });
    await save({ ...tombstone, targets: [...tombstone.targets, result] });
  }

  const deletedItems = await deps.store.deleteReservationData(key);
  await save({ ...tombstone, status: 'erased', deletedItems, finishedAt: deps.now() });
  count('ReservationErased');
  logger.info('reservation erased', { targets: tombstone.targets.map((t) => `${t.target}:${t.result}`).join(',') });
  return outcome;

  async function eraseAt(state: TargetState): Promise<ErasureAtTarget> {
    const name = state.target as TargetName;
    const kept = own(deps.targets, name)?.keptAfterRemoval;
    if (state.status === 'readonly') return { target: name, result: 'not_ours', note: "a native integration's guest: guest-sync never changes it" };
    if (Object.keys(state.targetIds).length === 0 && !state.intent) return { target: name, result: 'nothing_there' };
    // An intent left by a create that died after sending it: that create may have landed.
    if (state.status === 'absent' && !state.intent) return { target: name, result: 'already_removed', ...(kept ? { note: kept } : {}) };
    const target = own(deps.targets, name);
    const route = property && own(property.targets, name);
    if (!target || !property || !route) return { target: name, result: 'not_configured', note: `the property or its ${name} route is no longer in the config: remove the guest there by hand` };
    const writer = new TargetStateWriter(deps.store, key, state, deps.now);
    const applied = await target.apply({ key, reservation, property, desired: null, fingerprint: 'absent', state, save: writer.save });
    return { target: name, result: applied.action, ...(kept ? { note: kept } : {}) };
  }
}
