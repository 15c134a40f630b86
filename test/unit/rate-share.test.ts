import { describe, expect, it } from 'vitest';
import { JOIN_WAIT_MS, shareOf } from '../../functions/core/rate-share.ts';

const NOW = 1_000_000;
const lease = (worker: string, heldMs: number, busy = true) => ({ worker, since: NOW - heldMs, busy });

describe('a worker\'s share of a vendor account\'s rate', () => {
  it.each([
    ['alone: the whole rate at once', [lease('a', 0)], 'a', { fraction: 1, waitMs: 0 }],
    ['alone, before its own lease is visible', [], 'a', { fraction: 1, waitMs: 0 }],
    ['two long-held leases: half each', [lease('a', 60_000), lease('b', 60_000)], 'b', { fraction: 0.5, waitMs: 0 }],
    ['five workers: a fifth each', ['a', 'b', 'c', 'd', 'e'].map((w) => lease(w, 60_000)), 'c', { fraction: 0.2, waitMs: 0 }],
    ['a joiner waits until the others have counted it', [lease('a', 60_000), lease('b', 2_000)], 'b', { fraction: 0, waitMs: JOIN_WAIT_MS - 2_000 }],
    ['the holder it joined slows down at once', [lease('a', 60_000), lease('b', 2_000)], 'a', { fraction: 0.5, waitMs: 0 }],
    ['once waited out, the joiner takes its part', [lease('a', 60_000), lease('b', JOIN_WAIT_MS)], 'b', { fraction: 0.5, waitMs: 0 }],
    ['two joining at once: the older (then lower id) never waits', [lease('b', 1_000), lease('a', 1_000)], 'a', { fraction: 0.5, waitMs: 0 }],
    ['two joining at once: the other waits', [lease('b', 1_000), lease('a', 1_000)], 'b', { fraction: 0, waitMs: JOIN_WAIT_MS - 1_000 }],
    ['a joiner does not wait for workers that are not busy', [lease('a', 60_000, false), lease('b', 1_000, false), lease('c', 0)], 'c', { fraction: 1 / 3, waitMs: 0 }],
    ['one busy worker among idle ones is enough to wait for', [lease('a', 60_000, false), lease('b', 60_000, true), lease('c', 0)], 'c', { fraction: 0, waitMs: JOIN_WAIT_MS }],
  ])('%s', (_name, leases, worker, expected) => {
    expect(shareOf(leases, worker, NOW)).toEqual(expected);
  });

  it('never hands out more than the whole rate, whoever asks at any moment', () => {
    // Every mix of held times: the parts of the workers that may call add up to at most 1.
    const held = [0, 1_000, JOIN_WAIT_MS - 1, JOIN_WAIT_MS, 120_000];
    for (const a of held) for (const b of held) for (const c of held) {
      const leases = [lease('a', a), lease('b', b), lease('c', c)]; // all busy: the case that must not overshoot
      const total = ['a', 'b', 'c'].reduce((sum, w) => sum + shareOf(leases, w, NOW).fraction, 0);
      expect(total).toBeLessThanOrEqual(1 + 1e-9);
    }
  });
});
