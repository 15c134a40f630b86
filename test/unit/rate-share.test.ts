import { describe, expect, it } from 'vitest';
import { ADMIT_LEAD_MS, JOIN_WAIT_MS, LIMITED_RECOUNT_MS, shareOf } from '../../functions/core/rate-share.ts';
import type { RateLease } from '../../functions/core/store.ts';

const NOW = 1_000_000;
/** A lease admitted `admittedAgoMs` ago (negative: admitted that much later). */
const lease = (worker: string, admittedAgoMs: number, busy = true, claim = 0, claimUntil = 0): RateLease => ({ worker, since: NOW - Math.max(admittedAgoMs, 0) - 1, busy, admittedAt: NOW - admittedAgoMs, claim, claimUntil });

describe('a worker\'s share of a vendor account\'s rate', () => {
  it.each([
    ['alone: the whole rate', [lease('a', 0)], 'a', { fraction: 1, waitMs: 0 }],
    ['alone, before its own lease is visible', [], 'a', { fraction: 1, waitMs: 0 }],
    ['two admitted: half each', [lease('a', 60_000), lease('b', 60_000)], 'b', { fraction: 0.5, waitMs: 0 }],
    ['five admitted: a fifth each', ['a', 'b', 'c', 'd', 'e'].map((w) => lease(w, 60_000)), 'c', { fraction: 0.2, waitMs: 0 }],
    ['a joiner not yet admitted waits until it is', [lease('a', 60_000), lease('b', -JOIN_WAIT_MS)], 'b', { fraction: 0, waitMs: JOIN_WAIT_MS }],
    ['...while the busy worker keeps the whole rate', [lease('a', 60_000), lease('b', -JOIN_WAIT_MS)], 'a', { fraction: 1, waitMs: 0 }],
    ['...and counts it just before it is admitted', [lease('a', 60_000), lease('b', -ADMIT_LEAD_MS)], 'a', { fraction: 0.5, waitMs: 0 }],
    ['once admitted, the joiner takes its part', [lease('a', 60_000), lease('b', 0)], 'b', { fraction: 0.5, waitMs: 0 }],
    ['two that joined at once, nobody busy: the one that let itself in counts the other, which is about to', [lease('a', 0, false), lease('b', -JOIN_WAIT_MS, false)], 'a', { fraction: 0.5, waitMs: 0 }],
    ['...and so does a quiet holder', [lease('a', 60_000, false), lease('b', -JOIN_WAIT_MS, false)], 'a', { fraction: 0.5, waitMs: 0 }],
    ['...but not while another lease is busy: that joiner waits for its turn', [lease('a', 60_000, false), lease('c', 60_000, true), lease('b', -JOIN_WAIT_MS, false)], 'a', { fraction: 0.5, waitMs: 0 }],
    ['a pacing worker claims the whole rate: a worker admitted since takes nothing yet, and looks again soon', [lease('a', 60_000, false, 1, NOW + 1), lease('b', 0, false)], 'b', { fraction: 0, waitMs: LIMITED_RECOUNT_MS }],
    ['...what the claims leave, up to its part', [lease('a', 60_000, false, 0.75, NOW + 1), lease('b', 0, false)], 'b', { fraction: 0.25, waitMs: 0 }],
    ['...its whole part when the claims leave that much', [lease('a', 60_000, false, 0.5, NOW + 1), lease('b', 0, false)], 'b', { fraction: 0.5, waitMs: 0 }],
    ['...or more: never more than its part', [lease('a', 60_000, false, 0.2, NOW + 1), lease('b', 0, false)], 'b', { fraction: 0.5, waitMs: 0 }],
    ['a claim that has run out binds nobody', [lease('a', 60_000, false, 1, NOW), lease('b', 0, false)], 'b', { fraction: 0.5, waitMs: 0 }],
    ['its own claim holds no worker back', [lease('a', 60_000, false, 1, NOW + 1), lease('b', 0, false)], 'a', { fraction: 0.5, waitMs: 0 }],
    ['a sliver left by the claims is not worth a call: it waits for more', [lease('a', 60_000, false, 0.96, NOW + 1), lease('b', 0, false)], 'b', { fraction: 0, waitMs: LIMITED_RECOUNT_MS }],
    ['...nor a rounding error (a call so far off it would never come)', [lease('a', 60_000, false, 1 / 2, NOW + 1), ...['c', 'd', 'e'].map((w) => lease(w, 60_000, false, 1 / 6, NOW + 1)), lease('b', 0, false)], 'b', { fraction: 0, waitMs: LIMITED_RECOUNT_MS }],
    ['five parts that add up to a rounding error over the rate hold nobody back', [...['a', 'b', 'c', 'd', 'e'].map((w) => lease(w, 60_000, true, 1 / 6, NOW + 1)), lease('f', 60_000, true)], 'f', { fraction: 1 / 6, waitMs: 0 }],
  ])('%s', (_name, leases, worker, expected) => {
    expect(shareOf(leases, worker, NOW).share).toEqual(expected);
  });

  it('a holder counts again just before the next joiner is admitted', () => {
    expect(shareOf([lease('a', 60_000), lease('b', -5_000)], 'a', NOW).recountAt).toBe(NOW + 5_000 - ADMIT_LEAD_MS);
    expect(shareOf([lease('a', 60_000)], 'a', NOW).recountAt).toBe(Number.POSITIVE_INFINITY);
  });

  it('never hands out more than the whole rate to the workers that may call, whatever the admission times', () => {
    const times = [-20_000, -ADMIT_LEAD_MS - 1, -ADMIT_LEAD_MS, -1, 0, 60_000];
    for (const a of times) for (const b of times) for (const c of times) for (let busy = 0; busy < 8; busy++) {
      const leases = [lease('a', a, (busy & 1) > 0), lease('b', b, (busy & 2) > 0), lease('c', c, (busy & 4) > 0)];
      // Each worker's share as it would compute it at NOW (every one renewed at NOW: the worst case is a stale holder, bounded by RENEW_MS).
      const total = ['a', 'b', 'c'].reduce((sum, w) => sum + shareOf(leases, w, NOW).share.fraction, 0);
      expect(total).toBeLessThanOrEqual(1 + 1e-9);
    }
  });

  it('never takes more than what the other workers\' live claims leave, whatever they claim', () => {
    const claims = [0, 0.2, 1 / 3, 0.5, 1];
    for (const a of claims) for (const b of claims) for (const live of [true, false]) {
      const leases = [lease('a', 60_000, false, a, live ? NOW + 1 : NOW), lease('b', 60_000, false, b, NOW + 1), lease('c', 0, false)];
      const { fraction } = shareOf(leases, 'c', NOW).share;
      expect(fraction).toBeLessThanOrEqual(Math.max(0, 1 - (live ? a : 0) - b) + 1e-9);
      expect(fraction).toBeLessThanOrEqual(1 / 3 + 1e-9);
    }
  });
});
