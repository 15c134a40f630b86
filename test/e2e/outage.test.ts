import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { eventually, exampleConfigWith } from '../support/config.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../support/hostaway.ts';
import { queueDepth, sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/**
 * One target down for a while (Kasify answers 503): the other targets sync at once, the
 * circuit breaker pauses Kasify and parks its work as pending instead of retrying messages
 * into the DLQ, and the sweep brings the work back once Kasify recovers, with no one's help.
 */
let stack: LocalStack;
beforeAll(async () => {
  const configPath = exampleConfigWith((config) => {
    // The pause outlasts the first messages' backoff (2 s): reservations whose failure came before
    // the breaker opened are retried while it is still open, so they park instead of calling.
    // (After a pause every parked reservation may call again: that is counted after recovery.)
    config.circuitBreaker = { failureThreshold: 3, pauseSeconds: 6, attemptsBeforePending: 3 };
    // Kasify's pacing is not under test here. At its real 1.5/s the six first attempts (three
    // calls each) queue behind one another and go to its lanes; on a slow machine they then span
    // more than the first messages' backoff and the pause, and reservations try again before the
    // breaker opens or after it closes. Unpaced, they all fail within a moment, as on a real outage.
    config.targets.kasify = { ...config.targets.kasify!, requestsPerSecond: 50, burst: 50 };
  });
  stack = await startTestStack({ configPath, sweepIntervalMs: 500 });
});
afterAll(async () => {
  await stack?.stop();
});

const KASIFY_PROPERTY = '6f1d2c1e-5b7a-4c1e-9a51-2f6f3b8c9d01';
const IDS = [820001, 820002, 820003, 820004, 820005, 820006];

describe('a target outage', () => {
  it('pauses only that target, keeps the DLQ empty, and catches up by itself after recovery', async () => {
    stack.sandbox.kasify.setOutage(503);
    for (const id of IDS) {
      await sendHostaway(stack, hostawayDelivery('reservation.created', { id, guestName: `Outage ${id}`, guestFirstName: 'Outage', guestLastName: String(id), guestEmail: `outage.${id}@example.com` }));
    }
    const store = storeFor(stack);
    const kasifyStates = () => Promise.all(IDS.map((id) => store.getTargetState({ connectionId: 'hostaway-demo', reservationId: String(id) }, 'kasify')));
    // (No drain: while Kasify is down the sweep keeps bringing its pending work back, so the queue is never idle.)
    await eventually(async () => (await kasifyStates()).every((s) => s?.status === 'pending'), 30_000, 'Kasify work pending');

    // The others did not wait for Kasify: they sync while it is still down (Minut at its pace, 1.8 a second).
    await eventually(async () => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Outage ')).length === IDS.length, 30_000, 'Minut synced');
    expect(stack.sandbox.hostelmate.bookings()).toHaveLength(IDS.length);
    expect(stack.sandbox.kasify.allBookings(KASIFY_PROPERTY)).toEqual([]);
    for (const id of IDS) {
      const key = { connectionId: 'hostaway-demo', reservationId: String(id) };
      expect(await store.getTargetState(key, 'minut')).toMatchObject({ status: 'synced' });
      expect(await store.getTargetState(key, 'kasify')).toMatchObject({ status: 'pending', dueAt: expect.any(Number), lastError: { permanent: false } });
    }
    const circuit = await store.getCircuit('kasify');
    expect(circuit?.openUntil).toBeGreaterThan(0);
    // Paused: Kasify was called for the first attempt of each reservation (the reservations of a
    // batch sync at the same time, so all of them try once before the breaker opens; each
    // attempt is one request and at most two inline retries), never for the messages' retries.
    const callsDuringOutage = stack.sandbox.kasify.requestLog().length;
    expect(callsDuringOutage).toBeLessThanOrEqual(IDS.length * 3);
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(0);
    // It stays down a while longer: still nothing in the DLQ, still pending.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await kasifyStates()).every((s) => s?.status === 'pending')).toBe(true);
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(0);

    stack.sandbox.kasify.setOutage(null);
    await eventually(async () => stack.sandbox.kasify.allBookings(KASIFY_PROPERTY).length === IDS.length, 30_000, 'Kasify caught up');
    await eventually(async () => (await kasifyStates()).every((s) => s?.status === 'synced'), 30_000, 'Kasify states synced');
    await stack.drain(30_000);
    expect(new Set(stack.sandbox.kasify.allBookings(KASIFY_PROPERTY).map((b) => b.channel_id)).size).toBe(IDS.length);
    expect(await store.getCircuit('kasify')).toMatchObject({ failures: 0, openUntil: null });
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(0);
    // The recovered work did not touch the targets that were already in step.
    expect(stack.sandbox.hostelmate.requestLog().filter((e) => e.route === 'POST /bookings')).toHaveLength(IDS.length);
  }, 120_000);
});
