import { errorMessage } from '../core/errors.ts';
import { count, logger } from '../core/powertools.ts';
import type { Reservation } from '../core/reservation.ts';
import type { ReservationKey, Store, TargetState, TraceEntry, TraceTargetAction } from '../core/store.ts';
import type { TargetOutcome } from './sync.ts';

/**
 * The per-reservation timeline behind `guest-sync trace`: one step per message sync handled,
 * holding what happened and never a value of the guest's (field names, codes, times), carried by
 * a target state's write where one is made anyway (MessageStep), else an item of its own.
 */

/**
 * The names of the reservation's fields that differ between two snapshots, e.g.
 * `stay.checkInDate`, `guest.email`; never their values. The version itself is not a change.
 */
export function changedFields(before: Reservation, after: Reservation): string[] {
  const flat = (reservation: Reservation): Map<string, string> => {
    const fields = new Map<string, string>();
    for (const [name, value] of Object.entries(reservation)) {
      if (name === 'sourceVersion') continue;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [inner, innerValue] of Object.entries(value)) fields.set(`${name}.${inner}`, JSON.stringify(innerValue));
      } else {
        fields.set(name, JSON.stringify(value));
      }
    }
    return fields;
  };
  const a = flat(before);
  const b = flat(after);
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((name) => a.get(name) !== b.get(name)).sort();
}

export function traceActions(targets: readonly TargetOutcome[]): TraceTargetAction[] {
  return targets.map((t) => ({
    target: t.target,
    action: t.action,
    ...(t.error ? { code: t.error.code, permanent: t.error.permanent } : {}),
    ...(t.retryAt !== undefined ? { retryAt: t.retryAt } : {}),
  }));
}

/** Collects an invocation's trace items, written together at its end (one batch write, no wait per message). */
export class TraceBatch {
  private readonly items: { key: ReservationKey; entries: TraceEntry[]; ttl: number }[] = [];

  /** One item: a step, or the steps moved off a target state at once. */
  add(key: ReservationKey, entries: TraceEntry[], ttl: number): void {
    if (entries.length > 0) this.items.push({ key: { connectionId: key.connectionId, reservationId: key.reservationId }, entries, ttl });
  }

  /** Best effort, like every trace write: a failure is logged and counted, never retried by SQS. */
  async flush(store: Store): Promise<void> {
    if (this.items.length === 0) return;
    const items = this.items.splice(0);
    const steps = items.reduce((n, item) => n + item.entries.length, 0);
    try {
      await store.appendTraces(items);
    } catch (error) {
      count('TraceWriteFailed', {}, steps);
      logger.warn('could not record the trace steps', { steps, error: errorMessage(error) });
    }
  }
}

/**
 * Best effort: the timeline is for operators, and losing one step must not fail (and so repeat)
 * work that reached the targets. Within an invocation the item joins the batch written at its
 * end; outside one (tests, tools) it is written at once. A failed write is logged and counted.
 */
export async function recordTrace(deps: { store: Store; config: { trace?: boolean }; traceBatch?: TraceBatch | undefined }, key: ReservationKey, entries: TraceEntry | TraceEntry[], ttl: number): Promise<void> {
  if (deps.config.trace === false) return;
  const batch = deps.traceBatch ?? new TraceBatch();
  batch.add(key, [entries].flat(), ttl);
  if (!deps.traceBatch) await batch.flush(deps.store);
}

/**
 * One message's trace step, put together as its targets decide their outcomes. The target that
 * decides last, when it writes its state, carries the whole step in that write
 * (`TargetState.trace`): the step costs no write of its own. When none can (the last one writes
 * nothing, its write is refused, or the step does not fit), the message writes the step as an
 * item of its own (`pending`).
 */
export class MessageStep {
  private readonly decided = new Map<string, TraceTargetAction>();
  private targets: readonly string[] = [];
  private carried: TraceEntry | undefined;

  /**
   * `header`: the step without its time and its targets' actions; `worthRecording`: whether the
   * step is recorded at all, given every target's action.
   */
  constructor(
    private readonly header: Omit<TraceEntry, 'targets' | 'at'>,
    private readonly now: () => number,
    private readonly worthRecording: (actions: readonly TraceTargetAction[]) => boolean = () => true,
  ) {}

  /** The targets the message syncs, in the order the step lists them. */
  expect(targets: readonly string[]): void {
    this.targets = targets;
  }

  /**
   * A target is about to write its outcome: the whole step when every other target has decided
   * its own (this write then carries it), else undefined.
   */
  toCarry(target: string, outcome: TargetOutcome): TraceEntry | undefined {
    this.decided.set(target, traceActions([outcome])[0]!);
    if (this.carried || this.targets.some((name) => !this.decided.has(name))) return undefined;
    const actions = this.targets.map((name) => this.decided.get(name)!);
    return this.worthRecording(actions) ? { at: this.now(), ...this.header, targets: actions } : undefined;
  }

  /** The write that carries `entry` was made. */
  carriedBy(entry: TraceEntry): void {
    this.carried = entry;
  }

  /** A target's final outcome. */
  finished(outcome: TargetOutcome): void {
    this.decided.set(outcome.target, traceActions([outcome])[0]!);
  }

  /**
   * What the message still has to write as an item of its own: the step, unless a state carried
   * it as it ended. An outcome that changed after the step was carried (a target's write refused
   * after it decided) is written again with the carried step's time, and the timeline shows the
   * item's version (DynamoDbStore.listTrace).
   */
  pending(): TraceEntry | undefined {
    const actions = this.targets.flatMap((name) => this.decided.get(name) ?? []);
    if (this.carried && JSON.stringify(this.carried.targets) === JSON.stringify(actions)) return undefined;
    if (!this.carried && !this.worthRecording(actions)) return undefined;
    return { at: this.carried?.at ?? this.now(), ...this.header, targets: actions };
  }
}

/**
 * The largest state write that carries steps: one write unit (1,024 bytes) less a margin. A later
 * write that adds to it (a hand-off mark, an intent) may take two units; its outcome write again one.
 */
export const CARRYING_STATE_BYTES = 1000;

/**
 * `state` (as it will be written) with `entry` among its carried steps, and the steps moved off it
 * into an item of their own when the state would outgrow `CARRYING_STATE_BYTES`; undefined when
 * even `entry` alone does not fit.
 */
export function withCarriedStep(state: TargetState, entry: TraceEntry, bytesOf: (state: TargetState) => number): { trace: TraceEntry[]; moved: TraceEntry[] } | undefined {
  const earlier = state.trace ?? [];
  if (bytesOf({ ...state, trace: [...earlier, entry] }) <= CARRYING_STATE_BYTES) return { trace: [...earlier, entry], moved: [] };
  if (bytesOf({ ...state, trace: [entry] }) <= CARRYING_STATE_BYTES) return { trace: [entry], moved: earlier };
  return undefined;
}
