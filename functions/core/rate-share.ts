import type { RateLease, Store } from './store.ts';

/**
 * A vendor's rate limit belongs to the account, not to a worker. Every worker that calls the
 * account holds a short lease in the store and paces itself at 1/n of the configured rate, n
 * being the unexpired leases it sees, so the workers together stay within it however many run.
 * A worker alone runs at the full rate. A worker joining while another is busy (it used at least
 * half its share in its last period) waits a renewal period (and a margin) before its first call,
 * so that each busy one has renewed, counted it, and slowed down. Where nobody is busy a joiner
 * starts at once; and a worker that starts pacing (a call had to wait for its turn) renews at
 * once, so it counts the workers that joined before it goes on at a share it took when it was
 * alone. A worker that stops calling lets its lease lapse and the others speed up.
 *
 * Cost: one lease write and one query per worker and account every RENEW_MS while it calls
 * (docs/throughput.md), whatever the number of calls.
 */
export const RENEW_MS = 10_000;
/** Long enough to survive a renewal delayed by a slow request; short enough to hand the share back soon. */
export const LEASE_MS = 30_000;
/** A joiner's wait: one renewal period, plus a margin for a renewal delayed by a request in flight. */
export const JOIN_WAIT_MS = RENEW_MS + 5_000;

export interface RateShareOptions {
  /** The vendor account: one per API base URL and credentials. */
  key: string;
  worker: string;
  store: Store;
  now: () => number;
  /** The account's configured rate, to tell a busy worker (using half its share or more) from one that calls now and then. */
  requestsPerSecond: number;
}

export interface Share {
  /** This worker's part of the account's rate, 0 to 1; 0 means wait `waitMs` first. */
  fraction: number;
  waitMs: number;
}

/** What a paced client needs of a share: ask before a call, say when a call got its turn (and whether it waited). */
export interface RateShareLike {
  share(): Promise<Share>;
  noteTurn(waited: boolean): void;
}

export class RateShare implements RateShareLike {
  private current: Share = { fraction: 0, waitMs: 0 };
  private renewAt = 0;
  private renewedAt = 0;
  private renewing: Promise<void> | undefined;
  private calls = 0;
  private waitedSinceRenew = false;

  constructor(private readonly options: RateShareOptions) {}

  async share(): Promise<Share> {
    if (this.options.now() >= this.renewAt) {
      this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
      await this.renewing;
    }
    return this.current.fraction > 0 ? this.current : { fraction: 0, waitMs: Math.max(0, this.renewAt - this.options.now()) };
  }

  /**
   * A call got its turn. The first time in a period that it had to wait for it, this worker is
   * using its share: it renews at once, so it counts workers that joined since the last renewal
   * before it goes on at a share it took when it was alone.
   */
  noteTurn(waited: boolean): void {
    this.calls++;
    if (waited && !this.waitedSinceRenew) {
      this.waitedSinceRenew = true;
      this.renewAt = 0;
    }
  }

  private async renew(): Promise<void> {
    const { store, key, worker, now } = this.options;
    const at = now();
    // Busy: used at least half of what its share allowed since the last renewal (and more than one call).
    const allowed = this.current.fraction * this.options.requestsPerSecond * (Math.max(0, at - this.renewedAt) / 1000);
    const busy = this.renewedAt > 0 && this.calls >= 2 && this.calls >= allowed / 2;
    const leases = await store.renewRateLease(key, worker, { untilMs: at + LEASE_MS, busy }, at);
    this.calls = 0;
    this.waitedSinceRenew = false;
    this.renewedAt = at;
    this.current = shareOf(leases, worker, at);
    // While waiting to be counted, look again as soon as the others must have renewed.
    this.renewAt = this.current.fraction > 0 ? at + RENEW_MS : at + this.current.waitMs;
  }
}

/**
 * Pure: the share of `worker` among the live `leases` (its own included) at `now`. A worker
 * waits only while it is new (held for less than JOIN_WAIT_MS) and another worker is busy;
 * the oldest lease never waits, so two workers starting together do not both hold back.
 */
export function shareOf(leases: readonly RateLease[], worker: string, now: number): Share {
  const mine = leases.find((lease) => lease.worker === worker) ?? { worker, since: now, busy: false };
  const all = leases.some((lease) => lease.worker === worker) ? leases : [...leases, mine];
  if (all.length === 1) return { fraction: 1, waitMs: 0 };
  const oldest = all.reduce((a, b) => (b.since < a.since || (b.since === a.since && b.worker < a.worker) ? b : a));
  const heldMs = now - mine.since;
  const othersBusy = all.some((lease) => lease.worker !== worker && lease.busy);
  if (othersBusy && oldest.worker !== worker && heldMs < JOIN_WAIT_MS) return { fraction: 0, waitMs: JOIN_WAIT_MS - heldMs };
  return { fraction: 1 / all.length, waitMs: 0 };
}
