import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDbStore } from '../../functions/core/dynamodb-store.ts';
import type { CircuitState, Store } from '../../functions/core/store.ts';
import { CircuitBreaker } from '../../functions/sync/circuit-breaker.ts';
import { startEmbeddedStore } from '../support/dynamo.ts';

/**
 * The circuit breaker's reads, on the embedded table: a worker's batch reaches a target with
 * all its messages at once, and they must not each read the shared circuit item.
 */
let embedded: { store: DynamoDbStore; stop: () => Promise<void> };
beforeAll(async () => {
  embedded = await startEmbeddedStore();
});
afterAll(async () => {
  await embedded?.stop();
});

const SETTINGS = { failureThreshold: 1, pauseSeconds: 300, attemptsBeforePending: 3 };

/** The store, with its circuit reads counted; `hold()` holds the next read's answer until released. */
function watchedStore(): { store: Store; reads: () => number; hold: () => () => void } {
  let reads = 0;
  let gate: Promise<void> | undefined;
  const store = new Proxy(embedded.store, {
    get(target, name, receiver) {
      if (name !== 'getCircuit') return Reflect.get(target, name, receiver) as unknown;
      return async (circuit: string): Promise<CircuitState | undefined> => {
        reads++;
        const held = gate;
        gate = undefined;
        const state = await target.getCircuit(circuit);
        if (held) await held;
        return state;
      };
    },
  });
  return {
    store,
    reads: () => reads,
    hold: () => {
      let release = () => {};
      gate = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
  };
}

describe('circuit breaker reads', () => {
  it("a batch's ten messages that reach a target at once read its circuit once", async () => {
    const { store, reads } = watchedStore();
    const breaker = new CircuitBreaker(store, SETTINGS, Date.now);
    const paused = await Promise.all(Array.from({ length: 10 }, () => breaker.pausedUntil('batch-target')));
    expect(paused).toEqual(Array(10).fill(undefined));
    expect(reads()).toBe(1);
    // Then from the worker's short cache.
    await breaker.pausedUntil('batch-target');
    expect(reads()).toBe(1);
  });

  it('a read that started before this worker paused the target does not hide the pause', async () => {
    const { store, hold } = watchedStore();
    let clock = 1_000_000;
    const breaker = new CircuitBreaker(store, SETTINGS, () => clock);
    const release = hold();
    // A message reads the circuit (closed); its answer comes late.
    const early = breaker.pausedUntil('slow-read-target');
    clock += 10;
    // Meanwhile another message's outage failure pauses the target (threshold 1).
    const until = await breaker.recordFailure('slow-read-target');
    expect(until).toBe(clock + 300_000);
    release();
    expect(await early).toBeUndefined();
    // The late read saw the closed circuit; the next message must still see the pause.
    expect(await breaker.pausedUntil('slow-read-target')).toBe(until);
  });
});
