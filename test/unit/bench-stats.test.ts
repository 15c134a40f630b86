import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { peakInWindow } from '../../bench/stats.ts';

describe('peakInWindow: the fullest a rolling-window limiter got', () => {
  it.each([
    ['no calls', [], 1000, 0],
    ['one call', [5], 1000, 1],
    ['calls further apart than the window', [0, 1000, 2000], 1000, 1],
    ['two calls just inside one window', [0, 999], 1000, 2],
    ['a bunch in the middle of a spread', [0, 400, 1500, 1550, 1600, 1700, 3000], 250, 4],
    ['...where the window ends just before the last of it', [0, 400, 1500, 1550, 1600, 1700, 3000], 200, 3],
    ['any order', [1700, 0, 1550, 3000, 1500, 400, 1600], 250, 4],
    ['calls at the same instant', [10, 10, 10, 500], 100, 3],
  ])('%s', (_name, times, windowMs, peak) => {
    expect(peakInWindow(times, windowMs)).toBe(peak);
  });

  it('agrees with counting every window that starts at a call', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 60 }), fc.integer({ min: 1, max: 2000 }), (times, windowMs) => {
        const naive = Math.max(0, ...times.map((start) => times.filter((t) => t >= start && t < start + windowMs).length));
        expect(peakInWindow(times, windowMs)).toBe(naive);
      }),
    );
  });
});
