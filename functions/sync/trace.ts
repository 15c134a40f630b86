import { errorMessage } from '../core/errors.ts';
import { count, logger } from '../core/powertools.ts';
import type { Reservation } from '../core/reservation.ts';
import type { ReservationKey, Store, TraceEntry, TraceTargetAction } from '../core/store.ts';
import type { TargetOutcome } from './sync.ts';

/**
 * The per-reservation timeline behind `guest-sync trace`: one small item per message sync
 * handled, holding what happened and never a value of the guest's (field names, codes, times).
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

/** Collects an invocation's trace steps, written together at its end (one batch write, no wait per message). */
export class TraceBatch {
  private readonly steps: { key: ReservationKey; entry: TraceEntry; ttl: number }[] = [];

  add(key: ReservationKey, entry: TraceEntry, ttl: number): void {
    this.steps.push({ key: { connectionId: key.connectionId, reservationId: key.reservationId }, entry, ttl });
  }

  /** Best effort, like every trace write: a failure is logged and counted, never retried by SQS. */
  async flush(store: Store): Promise<void> {
    if (this.steps.length === 0) return;
    const steps = this.steps.splice(0);
    try {
      await store.appendTraces(steps);
    } catch (error) {
      count('TraceWriteFailed', {}, steps.length);
      logger.warn('could not record the trace steps', { steps: steps.length, error: errorMessage(error) });
    }
  }
}

/**
 * Best effort: the timeline is for operators, and losing one step must not fail (and so repeat)
 * work that reached the targets. Within an invocation the step joins the batch written at its
 * end; outside one (tests, tools) it is written at once. A failed write is logged and counted.
 */
export async function recordTrace(deps: { store: Store; config: { trace?: boolean }; traceBatch?: TraceBatch | undefined }, key: ReservationKey, entry: TraceEntry, ttl: number): Promise<void> {
  if (deps.config.trace === false) return;
  const batch = deps.traceBatch ?? new TraceBatch();
  batch.add(key, entry, ttl);
  if (!deps.traceBatch) await batch.flush(deps.store);
}
