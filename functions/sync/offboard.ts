import type { TargetName } from '../core/config.ts';
import { own } from '../core/own.ts';
import { count, logger } from '../core/powertools.ts';
import type { OffboardMessage } from '../core/queue.ts';
import { idsOnlyReservation } from '../core/reservation.ts';
import type { ReservationKey, TargetState } from '../core/store.ts';
import { TargetStateWriter, heldByLane, waitForLane } from './state-writer.ts';
import type { SyncDeps, SyncOutcome } from './sync.ts';

/**
 * `offboarding: remove`: a route was removed from the config, and the guest guest-sync created
 * through it is removed as a cancellation would remove it (Minut delete, RecepAI check-out,
 * Kasify and HostelMate cancel), with the route as it was (the message carries it). The target
 * itself must still be configured (its credentials); if it is not, the guest is left and the
 * state says `offboarded`. A failure is retried like any other.
 */
export async function offboardGuest(message: OffboardMessage, deps: SyncDeps): Promise<SyncOutcome> {
  const key: ReservationKey = { connectionId: message.connectionId, reservationId: message.reservationId };
  const name = message.target as TargetName;
  const outcome: SyncOutcome = { snapshotChanged: false, unrouted: false, targets: [] };
  const state = await deps.store.getTargetState(key, name);
  if (!state || !holdsGuest(state)) return outcome;
  // The target's lane may be calling it for this reservation: wait until it hands the work back.
  const laneUntil = heldByLane(state, deps.now());
  if (laneUntil !== undefined) {
    const retry = waitForLane(laneUntil, deps.now(), 'the target lane still holds work for this reservation');
    return { ...outcome, targets: [{ target: name, action: 'failed', error: { code: 'held_by_lane', permanent: false } }], retry };
  }
  const { save } = new TargetStateWriter(deps.store, key, state, deps.now);
  const target = own(deps.targets, name);
  if (!target) {
    logger.warn('offboarding: the target is no longer configured, the guest is left there', { target: name });
    await save({ status: 'offboarded' });
    return { ...outcome, targets: [{ target: name, action: 'offboarded_left' }] };
  }
  const snapshot = await deps.store.getSnapshot(key);
  const reservation = snapshot?.reservation ?? idsOnlyReservation(key, null, 'offboarded');
  // Errors propagate: the handler retries the message with backoff, as for any sync.
  const result = await target.apply({ key, reservation, property: message.property, desired: null, fingerprint: 'absent', state, save });
  await save({ ...result.patch, status: 'absent', appliedFingerprint: null, lastError: null, dueAt: null, failures: 0, behindSince: null });
  count('GuestOffboarded', { target: name });
  return { ...outcome, targets: [{ target: name, action: `offboarded_${result.action}` }] };
}

/** A guest guest-sync created and still answers for at the target. */
export function holdsGuest(state: TargetState): boolean {
  return Object.keys(state.targetIds).length > 0 && state.status !== 'absent' && state.status !== 'readonly';
}
