import { describe, expect, it } from 'vitest';
import { BURST_EVENTS, BURST_STICKY_MS, BURST_WINDOW_MS, BurstDetector } from '../../functions/ingest/burst.ts';

/** Deliveries as [connection, events, at ms]; the answer for the last one. */
type Case = [string, Array<[string, number, number]>, boolean];

describe('which deliveries ingest puts on the bulk queue', () => {
  it.each<Case>([
    ['one delivery: main queue', [['a', 1, 0]], false],
    ['a host\'s ordinary traffic, one a minute for an hour: main queue', Array.from({ length: 60 }, (_, i): [string, number, number] => ['a', 1, i * 60_000]), false],
    [`${BURST_EVENTS} events in one window: still main`, Array.from({ length: BURST_EVENTS }, (_, i): [string, number, number] => ['a', 1, i * 10]), false],
    [`the ${BURST_EVENTS + 1}th in the window: bulk`, Array.from({ length: BURST_EVENTS + 1 }, (_, i): [string, number, number] => ['a', 1, i * 10]), true],
    ['one delivery carrying many reservations counts them all', [['a', BURST_EVENTS + 1, 0]], true],
    ['another connection during a burst: main queue', [['a', BURST_EVENTS + 1, 0], ['b', 1, 100]], false],
    ['the bursting connection stays on bulk while quiet for less than the sticky time', [['a', BURST_EVENTS + 1, 0], ['a', 1, BURST_STICKY_MS - 1]], true],
    ['...and goes back to main after it', [['a', BURST_EVENTS + 1, 0], ['a', 1, BURST_STICKY_MS]], false],
    ['events spread over two windows do not add up', [['a', BURST_EVENTS, 0], ['a', BURST_EVENTS, BURST_WINDOW_MS]], false],
  ])('%s', (_name, deliveries, bulk) => {
    const bursts = new BurstDetector();
    let last = false;
    for (const [connection, events, at] of deliveries) last = bursts.note(connection, events, at);
    expect(last).toBe(bulk);
  });
});
