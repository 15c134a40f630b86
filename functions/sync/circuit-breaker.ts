import type { Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import { count, logger } from '../core/powertools.ts';
import { StaleWriteError, type CircuitState, type Store } from '../core/store.ts';

/**
 * One circuit breaker per target, shared by every worker through one DynamoDB item
 * (versioned conditional writes, so concurrent workers agree). Outage failures (5xx,
 * no response) from any reservation count up; at `failureThreshold` in a row the target
 * is paused for `pauseSeconds`. While paused, sync does not call it: the work is parked on
 * the reservation's target state as "pending, retry at T" (`dueAt`), the message succeeds,
 * and the sweep re-enqueues it at T. After T calls go through again; one more failure
 * pauses it again, a success closes it. Rate limits (429) are not outages: they have
 * their own Retry-After handling.
 */

/** How long a worker trusts its last read of a circuit before reading it again. */
const CACHE_MS = 1_000;
const WRITE_ATTEMPTS = 4;

export class CircuitBreaker {
  private readonly cache = new Map<string, { state: CircuitState | undefined; at: number }>();
  /** Reads in flight: a batch's messages that reach a target at once share one read. */
  private readonly reading = new Map<string, Promise<CircuitState | undefined>>();

  constructor(
    private readonly store: Store,
    private readonly settings: Config['circuitBreaker'],
    private readonly now: () => number,
  ) {}

  /** Epoch ms until which the target is paused, or undefined when calls may go through. */
  async pausedUntil(target: string): Promise<number | undefined> {
    const state = await this.read(target);
    return state?.openUntil && state.openUntil > this.now() ? state.openUntil : undefined;
  }

  /** Counts an outage failure; returns the pause end when the target is (now) paused. */
  async recordFailure(target: string): Promise<number | undefined> {
    const result = await this.update(target, (current) => {
      const failures = (current?.failures ?? 0) + 1;
      const stillOpen = current?.openUntil && current.openUntil > this.now();
      const open = failures >= this.settings.failureThreshold && !stillOpen;
      return { failures, openUntil: open ? this.now() + this.settings.pauseSeconds * 1000 : (current?.openUntil ?? null), opened: open };
    });
    if (result?.opened) {
      count('TargetPaused', { target });
      logger.warn('target paused by the circuit breaker', { target, failures: result.state.failures, until: new Date(result.state.openUntil!).toISOString() });
    }
    const until = result?.state.openUntil;
    return until && until > this.now() ? until : undefined;
  }

  /** Closes the circuit after a success (one write only when it was not already closed). */
  async recordSuccess(target: string): Promise<void> {
    const cached = this.cache.get(target)?.state;
    if (!cached || (cached.failures === 0 && cached.openUntil === null)) return;
    const result = await this.update(target, () => ({ failures: 0, openUntil: null, opened: false }));
    if (result) logger.info('target circuit closed', { target });
  }

  private async read(target: string): Promise<CircuitState | undefined> {
    const hit = this.cache.get(target);
    if (hit && this.now() - hit.at < CACHE_MS) return hit.state;
    let reading = this.reading.get(target);
    if (!reading) {
      const startedAt = this.now();
      reading = this.store
        .getCircuit(target)
        .then((state) => {
          // A write of this worker's that landed meanwhile is newer than what the read saw.
          if ((this.cache.get(target)?.at ?? Number.NEGATIVE_INFINITY) < startedAt) this.cache.set(target, { state, at: this.now() });
          return state;
        })
        .finally(() => this.reading.delete(target));
      this.reading.set(target, reading);
    }
    return reading;
  }

  private async update(
    target: string,
    change: (current: CircuitState | undefined) => { failures: number; openUntil: number | null; opened: boolean },
  ): Promise<{ state: CircuitState; opened: boolean } | undefined> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const current = await this.store.getCircuit(target);
      const { failures, openUntil, opened } = change(current);
      const next: CircuitState = { target, failures, openUntil, version: (current?.version ?? 0) + 1 };
      try {
        await this.store.putCircuit(next);
        this.cache.set(target, { state: next, at: this.now() });
        return { state: next, opened };
      } catch (error) {
        if (!(error instanceof StaleWriteError)) {
          // The breaker is an optimisation: failing to record must not fail the sync.
          logger.warn('could not update the circuit breaker', { target, error: errorMessage(error) });
          return undefined;
        }
      }
    }
    return undefined;
  }
}
