import { AsyncLocalStorage } from 'node:async_hooks';
import { RetryableError } from './errors.ts';

/**
 * The time budget of the current invocation. The sync handler runs each batch inside
 * `withDeadline` (the Lambda's remaining time minus a margin); every wait and every request
 * below it (pacing, Retry-After, token-refresh waits, HTTP timeouts) is capped by what is
 * left, so no worker sleeps past its timeout and no wait carries over into the next batch.
 */

/** The sync function's timeout (CDK sets it; leases are derived from it). */
export const SYNC_TIMEOUT_SECONDS = 60;
/** Kept free at the end of an invocation to record state and answer the batch. */
export const BUDGET_MARGIN_MS = 5_000;

const current = new AsyncLocalStorage<{ deadline: number }>();

/** Runs `run` with a deadline in wall-clock epoch ms. */
export function withDeadline<T>(deadline: number, run: () => Promise<T>): Promise<T> {
  return current.run({ deadline }, run);
}

/**
 * Ms left before the current invocation's deadline; Infinity outside one (CLI, tests). Always in
 * wall-clock time: the budget is the Lambda's, whatever clock the business logic is given.
 */
export function remainingMs(): number {
  const deadline = current.getStore()?.deadline;
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
}

/** Not started, or cut short, for want of time in this invocation: retried later, not counted as a failed attempt. */
export class BudgetExceededError extends RetryableError {
  override name = 'BudgetExceededError';
  constructor(what: string, retryAfterSeconds?: number) {
    super(`not enough time left in this invocation to ${what}`, retryAfterSeconds, 'deadline_exceeded');
  }
}

/** Sleeps `ms` if the budget allows it; otherwise throws at once, so the caller's work is retried or parked. */
export async function sleepWithinBudget(ms: number, sleep: (ms: number) => Promise<void>, what: string): Promise<void> {
  if (ms > remainingMs()) throw new BudgetExceededError(what, Math.ceil(ms / 1000));
  await sleep(ms);
}

/**
 * How long a lease must last to outlive what it guards: every attempt at its full timeout,
 * the backoff between them, and a margin. One rule for the create intents and the token leases.
 */
export function leaseMs(guarded: { timeoutMs: number; attempts: number; backoffMs?: number }, marginMs = 5_000): number {
  return guarded.timeoutMs * guarded.attempts + (guarded.backoffMs ?? 0) + marginMs;
}

/** A create intent's lease: outlives the invocation that creates (its whole time budget); only a crash leaves it to run out. */
export const CREATE_INTENT_LEASE_MS = leaseMs({ timeoutMs: SYNC_TIMEOUT_SECONDS * 1000, attempts: 1 });
