import { describe, expect, it } from 'vitest';
import { BurstDetector } from '../../functions/core/parking.ts';

const settings = { events: 5, windowSeconds: 10 };

/** Each row: deliveries as [connection, events, at ms]; whether each is parked. */
const cases: { name: string; deliveries: [string, number, number][]; parked: boolean[] }[] = [
  { name: 'ordinary traffic is queued', deliveries: [['a', 1, 0], ['a', 1, 1000], ['a', 1, 2000]], parked: [false, false, false] },
  { name: 'the threshold itself is not a burst', deliveries: [['a', 5, 0]], parked: [false] },
  { name: 'past the threshold within the window is a burst', deliveries: [['a', 5, 0], ['a', 1, 9_999]], parked: [false, true] },
  { name: 'one delivery of many events is a burst by itself', deliveries: [['a', 6, 0]], parked: [true] },
  { name: 'a new window starts the count again', deliveries: [['a', 5, 0], ['a', 5, 10_000]], parked: [false, false] },
  { name: 'connections are counted apart', deliveries: [['a', 5, 0], ['b', 5, 1], ['a', 0, 2], ['b', 0, 3]], parked: [false, false, false, false] },
  { name: 'another connection in a burst is not parked with it', deliveries: [['a', 6, 0], ['b', 1, 1]], parked: [true, false] },
  { name: 'a burst stays parked for a minute after its last busy window', deliveries: [['a', 6, 0], ['a', 1, 30_000], ['a', 1, 59_999]], parked: [true, true, true] },
  { name: 'and leaves it after a quiet minute', deliveries: [['a', 6, 0], ['a', 1, 60_000]], parked: [true, false] },
  { name: 'a burst renewed in a later window stays parked', deliveries: [['a', 6, 0], ['a', 6, 50_000], ['a', 1, 100_000]], parked: [true, true, true] },
  { name: 'a clock that goes back starts a new window', deliveries: [['a', 5, 10_000], ['a', 1, 5_000]], parked: [false, false] },
];

describe('BurstDetector', () => {
  it.each(cases)('$name', ({ deliveries, parked }) => {
    const detector = new BurstDetector();
    expect(deliveries.map(([connection, events, at]) => detector.note(connection, events, at, settings))).toEqual(parked);
  });
});
