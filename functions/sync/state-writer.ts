import type { ReservationKey, Store, TargetState } from '../core/store.ts';
import type { StatePatch } from '../targets/target.ts';

/**
 * A target's state, saved patch by patch: each write expects the version before it (the store's
 * optimistic lock), so of two attempts working on the same state the second fails instead of
 * overwriting. `fixed` is written with every patch (sync keeps the reservation's ttl current).
 */
export class TargetStateWriter {
  constructor(
    private readonly store: Store,
    private readonly key: ReservationKey,
    private current: TargetState,
    private readonly now: () => number,
    private readonly fixed: Partial<TargetState> = {},
  ) {}

  /** The state as last read or saved. */
  get state(): TargetState {
    return this.current;
  }

  readonly save = async (patch: StatePatch): Promise<TargetState> => {
    const next: TargetState = { ...this.current, ...patch, ...this.fixed, updatedAt: this.now(), version: this.current.version + 1 };
    await this.store.putTargetState(this.key, next);
    this.current = next;
    return next;
  };
}
