import type { RateClaim, RateLease, Store } from './store.ts';

/**
 * A vendor's rate limit belongs to the account, not to a worker. Every worker that calls the
 * account holds a short lease in the store and paces itself at 1/n of the configured rate, n
 * being the leases admitted to call, so the workers together stay within it however many run.
 * A worker alone runs at the full rate. A worker that joins while another is busy (it used at
 * least half its share in its last period) is admitted only a renewal period (and a margin)
 * later, so every busy worker renews in between and counts it; the busy ones keep their rate
 * until just before it is admitted, so the wait costs no throughput. Where nobody is busy a
 * joiner is admitted at once; a worker that starts pacing (a call had to wait for its turn)
 * renews at once, so it counts the workers admitted meanwhile. A worker that stops calling
 * lets its lease lapse and the others speed up.
 *
 * Counting alone would let the shares add up to more than the rate while a worker that counted
 * fewer workers keeps its larger part until its next count. So each worker also says in its
 * lease what part it took, its claim, and nobody takes more than what the others' live claims
 * leave: a joiner starts on the rest and counts again within LIMITED_RECOUNT_MS, by when the
 * others have counted it too or let go. A claim binds until its worker's next count is due (one
 * turn for a worker that calls now and then), so one that stops calling holds nobody back for long.
 *
 * Cost: one lease write and one query per worker and account every RENEW_MS while it calls (at
 * most every RECOUNT_MS while it paces, LIMITED_RECOUNT_MS while others' claims hold it back),
 * one more write when a lease is taken or its claim changes (docs/throughput.md), whatever the
 * number of calls.
 */
export const RENEW_MS = 10_000;
/** Long enough to survive a renewal delayed by a slow request; short enough to hand the share back soon. */
export const LEASE_MS = 30_000;
/** A joiner's wait behind busy workers: one renewal period, plus a margin for a renewal delayed by a request in flight. */
export const JOIN_WAIT_MS = RENEW_MS + 5_000;
/** How soon a worker that waits to be admitted, or is busy on a part of the rate, counts again. */
export const RECOUNT_MS = 2_000;
/** Holders count a joiner this long before it is admitted, so they have slowed down when it starts. */
export const ADMIT_LEAD_MS = 1_000;
/** How soon a worker that others' claims leave less than its part counts again: they may have let go. */
export const LIMITED_RECOUNT_MS = 500;
/** A claim binds for one more count of its worker's own (RECOUNT_MS and a turn) and this margin. */
export const CLAIM_MARGIN_MS = 500;
/** How far workers' clocks may differ for a claim to still count as written now. */
const CLOCK_SKEW_MS = 1_000;
/** The least of its part a worker held back by claims takes; less, it waits for more. */
const MIN_PART = 0.1;

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
  /** Hands the lease back now: this worker stops calling for a while (it hands the work to a lane). */
  release?(): Promise<void>;
  /** Hands the lease back if another worker was busy on the account at the last count. */
  releaseIfContended?(): Promise<void>;
  /**
   * How long a first call would wait to be admitted: 0 while this worker holds a lease or saw
   * nobody busy (else one read of the others); RECOUNT_MS while the others' claims leave it none.
   */
  joinWaitMs?(): Promise<number>;
}

export class RateShare implements RateShareLike {
  private current: Share = { fraction: 0, waitMs: 0 };
  private renewAt = 0;
  private renewedAt = 0;
  private renewing: Promise<void> | undefined;
  private calls = 0;
  private waitedSinceRenew = false;
  private earlyRenewedAt = Number.NEGATIVE_INFINITY;
  private othersBusy = false;
  /** A call waited for its turn since the last count: this worker paces, and its part binds the others. */
  private pacedSinceRenew = false;
  /** At the last count the others' claims left this worker less than its part. */
  private limited = false;

  constructor(private readonly options: RateShareOptions) {}

  async releaseIfContended(): Promise<void> {
    if (this.othersBusy) await this.release();
  }

  async joinWaitMs(): Promise<number> {
    // The account's rate is taken by others that pace: a call would wait until they let go.
    if (this.holdsLease()) return this.limited && this.current.fraction === 0 ? RECOUNT_MS : 0;
    // Only a worker that last saw another busy here looks (one read); sparse traffic reads nothing.
    if (!this.othersBusy) return 0;
    const { store, key, worker, now } = this.options;
    const leases = await store.listRateLeases(key, now());
    this.othersBusy = anyOtherBusy(leases, worker);
    return this.othersBusy ? JOIN_WAIT_MS : 0;
  }

  private holdsLease(): boolean {
    return this.renewedAt > 0 && this.options.now() < this.renewedAt + LEASE_MS;
  }

  async release(): Promise<void> {
    if (!this.holdsLease()) return;
    this.renewedAt = 0;
    this.renewAt = 0;
    this.calls = 0;
    this.current = { fraction: 0, waitMs: 0 };
    this.limited = false;
    this.pacedSinceRenew = false;
    // Given back for others to use (a lane): before a call of its own, this worker looks whether
    // they are busy (joinWaitMs), so that it hands the work off too rather than wait to be admitted.
    this.othersBusy = true;
    await this.options.store.releaseRateLease(this.options.key, this.options.worker, this.options.now());
  }

  async share(): Promise<Share> {
    if (this.options.now() >= this.renewAt) {
      this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
      await this.renewing;
    }
    return this.current.fraction > 0 ? this.current : { fraction: 0, waitMs: Math.max(0, this.renewAt - this.options.now()) };
  }

  /**
   * A call got its turn. The first time in a period that it had to wait for it, this worker is
   * using its share: it renews at once, so it counts workers admitted since its last renewal.
   */
  noteTurn(waited: boolean): void {
    this.calls++;
    if (waited) this.pacedSinceRenew = true;
    // At most once per RECOUNT_MS: on a part of the rate, the others may have stopped and left it
    // the rest; on the whole rate, a worker admitted at once since (nobody was busy then) is
    // calling too, and until this one counts it the two use more than the account's rate.
    if (waited && !this.waitedSinceRenew && this.options.now() - this.earlyRenewedAt >= RECOUNT_MS) {
      this.waitedSinceRenew = true;
      this.earlyRenewedAt = this.options.now();
      this.renewAt = 0;
    }
  }

  private async renew(): Promise<void> {
    const { store, key, worker, now } = this.options;
    const at = now();
    // Busy: used at least half of what its share allowed since the last renewal (and more than one call).
    const allowed = this.current.fraction * this.options.requestsPerSecond * (Math.max(0, at - this.renewedAt) / 1000);
    const busy = this.renewedAt > 0 && this.calls >= 2 && this.calls >= allowed / 2;
    // Pacing (or held back by the others' claims, or busy): it will count again within RECOUNT_MS
    // and a turn, and its claim binds until then; otherwise (it counts now because it calls) for
    // the turn of that call.
    const pacing = this.holdsLease() && (busy || this.pacedSinceRenew || this.limited);
    // The lease is written before the others are counted (announce, then look): of two workers
    // that join at once, the later always sees the earlier. Counting first, both could miss each
    // other and each take the whole rate until a recount.
    const announced = this.holdsLease() ? this.claimOf(this.current.fraction, at, pacing) : { claim: 0, claimUntil: 0 };
    let leases = this.plausible(await store.renewRateLease(key, worker, { untilMs: at + LEASE_MS, busy, admitAt: at + JOIN_WAIT_MS, held: this.holdsLease(), ...announced }, at), at);
    const mine = leases.find((lease) => lease.worker === worker);
    // Nobody to wait for: admitted now.
    const admitNow = mine !== undefined && mine.admittedAt > at && !anyOtherBusy(leases, worker);
    const admission = admitNow ? { admittedAt: at } : {};
    const admitted = (all: RateLease[]) => (admitNow ? all.map((lease) => (lease.worker === worker ? { ...lease, ...admission } : lease)) : all);
    leases = admitted(leases);
    let next = shareOf(leases, worker, at);
    const claimed = this.claimOf(next.share.fraction, at, pacing || next.limited);
    if (claimed.claim > announced.claim) {
      // A larger part is said before it is taken, then the others are looked at again: of two
      // workers that take more at once, the later sees the earlier's claim (announce, then look).
      await store.updateRateLease(key, worker, { ...admission, ...claimed });
      leases = admitted(this.plausible(await store.listRateLeases(key, at), at));
      const again = shareOf(leases, worker, at);
      if (again.share.fraction < claimed.claim) {
        next = again;
        await store.updateRateLease(key, worker, this.claimOf(again.share.fraction, at, pacing || again.limited));
      }
    } else if (admitNow || claimed.claim !== announced.claim || claimed.claimUntil !== announced.claimUntil) {
      // Taking less (the others may have the rest now), or admitted now.
      await store.updateRateLease(key, worker, { ...admission, ...claimed });
    }
    this.calls = 0;
    this.othersBusy = anyOtherBusy(leases, worker);
    this.waitedSinceRenew = false;
    this.pacedSinceRenew = false;
    this.renewedAt = at;
    this.current = next.share;
    this.limited = next.limited;
    // A worker waiting to be admitted, or busy on a part of the rate, counts again soon: the
    // others may stop meanwhile (hand their work to a lane, go idle) and leave it the rest; one
    // that the others' claims hold back, sooner still.
    const soon = next.share.fraction === 0 || (busy && next.share.fraction < 1);
    this.renewAt = Math.min(at + (next.limited ? LIMITED_RECOUNT_MS : soon ? RECOUNT_MS : RENEW_MS), next.recountAt);
  }

  /**
   * The leases with every claim that runs further ahead than any claim can (its worker's clock is
   * ahead of this one's) taken as none: such a claim binds, once it looks possible, no longer
   * than a true one, rather than hold the others back for as long as the clocks differ.
   */
  private plausible(leases: RateLease[], at: number): RateLease[] {
    const longest = (claim: RateClaim) => this.claimOf(claim.claim, 0, true).claimUntil + CLOCK_SKEW_MS;
    return leases.map((lease) => (lease.claim > 0 && lease.claimUntil - at > longest(lease) ? { ...lease, claim: 0, claimUntil: 0 } : lease));
  }

  /**
   * A claim on `fraction` of the rate from `at`: while this worker paces it binds until its next
   * count is due (RECOUNT_MS and a turn at its pace); otherwise for the turn of the call it counts
   * for, so a worker that calls now and then holds the others back for one turn at most. A margin
   * on both; never past its lease.
   */
  private claimOf(fraction: number, at: number, pacing: boolean): RateClaim {
    if (fraction <= 0) return { claim: 0, claimUntil: 0 };
    const turnMs = 1000 / (fraction * this.options.requestsPerSecond);
    return { claim: fraction, claimUntil: Math.round(at + Math.min((pacing ? RECOUNT_MS : 0) + turnMs + CLAIM_MARGIN_MS, LEASE_MS)) };
  }
}

/**
 * Pure: the share of `worker` among the live `leases` at `now`, and when to count again (the
 * next lease to be admitted, ADMIT_LEAD_MS ahead). A worker not yet admitted waits; the others
 * divide the rate among the leases admitted by now plus ADMIT_LEAD_MS, and the leases that let
 * themselves in at their next look (no other lease busy): two workers that join at once each
 * see the other still waiting, and both are admitted at once. Nobody takes more than the other
 * leases' live claims leave (`limited`: less than its part).
 */
export function shareOf(leases: readonly RateLease[], worker: string, now: number): { share: Share; recountAt: number; limited: boolean } {
  const mine = leases.find((lease) => lease.worker === worker) ?? { worker, since: now, busy: false, admittedAt: now, claim: 0, claimUntil: 0 };
  const all = leases.some((lease) => lease.worker === worker) ? leases : [...leases, mine];
  // A lease not yet admitted lets itself in at its next look when no other is busy (RateShare.renew).
  const counts = (lease: RateLease) => lease.admittedAt <= now + ADMIT_LEAD_MS || !anyOtherBusy(all, lease.worker);
  const counted = all.filter(counts);
  const upcoming = all.filter((lease) => !counts(lease)).map((lease) => lease.admittedAt - ADMIT_LEAD_MS);
  const recountAt = upcoming.length > 0 ? Math.min(...upcoming) : Number.POSITIVE_INFINITY;
  if (mine.admittedAt > now) return { share: { fraction: 0, waitMs: mine.admittedAt - now }, recountAt: mine.admittedAt, limited: false };
  const part = 1 / Math.max(1, counted.length);
  const claimed = all.reduce((sum, lease) => sum + (lease.worker !== worker && lease.claimUntil > now ? lease.claim : 0), 0);
  const left = 1 - claimed;
  // Sums of parts may miss by a rounding error; that holds nobody back.
  if (left >= part - 1e-9) return { share: { fraction: part, waitMs: 0 }, recountAt, limited: false };
  // A sliver of the rate would put the next call far off (its interval grows as the part shrinks): wait for more instead.
  const fraction = left >= part * MIN_PART ? left : 0;
  return { share: { fraction, waitMs: fraction === 0 ? LIMITED_RECOUNT_MS : 0 }, recountAt, limited: true };
}

/** Whether a worker other than `worker` used its share in its last period: the rule a joiner waits by, and lets itself in by when it is false. */
function anyOtherBusy(leases: readonly RateLease[], worker: string): boolean {
  return leases.some((lease) => lease.worker !== worker && lease.busy);
}
