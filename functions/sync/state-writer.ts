import type { TargetName } from '../core/config.ts';
import { RetryableError } from '../core/errors.ts';
import { StaleWriteError, type ReservationKey, type Store, type TargetState } from '../core/store.ts';
import type { StatePatch } from '../targets/target.ts';

/**
 * A target's state, saved patch by patch: each write expects the version before it (the store's
 * optimistic lock), so of two attempts working on the same state the second fails instead of
 * overwriting. `fixed` is written with every patch (sync keeps the reservation's ttl current).
 *
 * `laneSeq`: the writer of a lane worker holding the hand-off mark `seq` (sync.ts). While the
 * mark is live, nobody else writes the state except to set the mark's `dirty` (a change of the
 * snapshot the lane must go and get), so a write refused for its version is made again on the
 * fresh version with `dirty` kept. A write that would end the hand-off while `dirty` is set
 * throws `HandoffDirty` instead: the lane goes again first.
 *
 * `holdFirstIntent`: while the state has never been written, a patch that only records a create
 * intent is kept in memory and written with the next patch (sync.ts, FirstCreate).
 */
export class TargetStateWriter {
  constructor(
    private readonly store: Store,
    private readonly key: ReservationKey,
    private current: TargetState,
    private readonly now: () => number,
    private readonly fixed: Partial<TargetState> = {},
    private readonly laneSeq?: string,
    private readonly holdFirstIntent = false,
  ) {}

  /** The state as last read or saved. */
  get state(): TargetState {
    return this.current;
  }

  /** Starts again from a state read afresh (another writer got there first). */
  reset(state: TargetState): void {
    this.current = state;
  }

  readonly save = async (patch: StatePatch): Promise<TargetState> => {
    if (this.holdFirstIntent && this.current.version === 0 && isIntentOnly(patch)) {
      this.current = { ...this.current, ...patch };
      return this.current;
    }
    for (let attempt = 1; ; attempt++) {
      // `dirty` taken in by a merge (below, in this write or an earlier one): the lane goes again before it hands back.
      if (this.laneSeq !== undefined && 'handoff' in patch && patch.handoff === null && this.current.handoff?.dirty) throw new HandoffDirty();
      const next: TargetState = { ...this.current, ...patch, ...this.fixed, updatedAt: this.now(), version: this.current.version + 1 };
      try {
        await this.store.putTargetState(this.key, next);
        this.current = next;
        return next;
      } catch (error) {
        if (!(error instanceof StaleWriteError) || this.laneSeq === undefined || attempt >= 3) throw error;
        const fresh = await this.store.getTargetState(this.key, this.current.target as TargetName);
        // Taken back (the mark lapsed) or erased: this lane's work is over.
        if (!fresh?.handoff || fresh.handoff.seq !== this.laneSeq || !this.current.handoff) throw error;
        this.current = { ...this.current, version: fresh.version, handoff: { ...this.current.handoff, dirty: this.current.handoff.dirty || fresh.handoff.dirty } };
      }
    }
  };
}

/** A patch that records a create intent and nothing else but the ids it goes with. */
function isIntentOnly(patch: StatePatch): boolean {
  return patch.intent != null && Object.keys(patch).every((field) => field === 'intent' || field === 'targetIds');
}

/** The snapshot changed while the lane worked: it reads it again before it hands the work back. */
export class HandoffDirty extends Error {
  override name = 'HandoffDirty';
}

/** Until when a lane holds this target's work for the reservation (its hand-off mark is live); undefined when none does. */
export function heldByLane(state: TargetState | undefined, now: number): number | undefined {
  const mark = state?.handoff;
  return mark && mark.until > now ? mark.until : undefined;
}

/** Work that must wait for a lane to hand back (erasure, offboarding): retried once the mark held `until` ends. */
export function waitForLane(until: number, now: number, what: string): RetryableError {
  return new RetryableError(what, Math.max(1, Math.ceil((until - now) / 1000)), 'held_by_lane');
}
