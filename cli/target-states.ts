import { StaleWriteError, type ReservationKey, type Store, type TargetState } from '../functions/core/store.ts';

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
        if (next) await store.putTargetState(key, { ...next, version: state.version + 1 });
      }
      return;
    } catch (error) {
      if (!(error instanceof StaleWriteError)) throw error;
    }
  }
  throw new Error(`could not ${giveUp} for ${key.connectionId}/${key.reservationId}: its state keeps changing; try again`);
}
