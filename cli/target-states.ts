import { StaleWriteError, type ReservationKey, type Store, type TargetState } from '../functions/core/store.ts';
import { heldByLane } from '../functions/sync/state-writer.ts';

/**
 * Rewrites a reservation's target states as `edit` says (undefined: leave that one alone), each
 * write conditional on the version read, so a sync writing at the same moment is never
 * overwritten: on a conflict the states are read again and edited afresh, a few times.
 */
export async function editTargetStates(store: Store, key: ReservationKey, edit: (state: TargetState) => Omit<TargetState, 'version'> | undefined, giveUp: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      for (const state of await store.listTargetStates(key)) {
        const next = edit(state);
        if (!next) continue;
        // The target's lane owns the state while it works (docs/throughput.md): its write would undo this one.
        const until = heldByLane(state, Date.now());
        if (until !== undefined) throw new Error(`could not ${giveUp} for ${key.connectionId}/${key.reservationId}: the ${state.target} lane is working on it (a backlog); try again once it is done, at the latest ${new Date(until).toISOString()}`);
        await store.putTargetState(key, { ...next, version: state.version + 1 });
      }
      return;
    } catch (error) {
      if (!(error instanceof StaleWriteError)) throw error;
    }
  }
  throw new Error(`could not ${giveUp} for ${key.connectionId}/${key.reservationId}: its state keeps changing; try again`);
}
