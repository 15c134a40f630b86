import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { TestClock } from '../support/clock.ts';
import { exampleConfigWith } from '../support/config.ts';
import { SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY, SEASIDE_SLUG } from '../support/hostaway.ts';
import { resetTargetSandboxes, startTestStack, storeFor } from '../support/stack.ts';
import { hostawayRecord, syncInstance } from '../support/sync.ts';

/**
 * Slow, hung and dropped answers on each target's first write, and a write applied after the
 * client gave up: every target ends with exactly one record, synced. Request timeouts are
 * 0.5 s here (config `timeoutSeconds`) so a hung answer costs half a second.
 */
const clock = new TestClock('2026-07-11T10:00:00Z'); // inside the fixture's stay: RecepAI holds the guest too
let stack: LocalStack;
beforeAll(async () => {
  const configPath = exampleConfigWith((config) => {
    for (const target of Object.values(config.targets) as Array<Record<string, unknown>>) target.timeoutSeconds = 0.5;
  });
  stack = await startTestStack({ syncWorkers: 0, configPath, now: clock.now, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  resetTargetSandboxes(stack);
  stack.sandbox.clearSlow();
});

const targets = {
  minut: { vendor: '/minut', write: '/guests', records: (id: number) => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === `Slow ${id}`).length },
  recepai: { vendor: '/recepai', write: '/guests/checkin', records: (id: number) => stack.sandbox.recepai.guests(SEASIDE_SLUG).filter((g) => g.pmsGuestId === `hostaway-demo:${id}`).length },
  kasify: { vendor: '/kasify', write: '/bookings', records: (id: number) => stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).filter((b) => b.channel_id === `hostaway-demo:${id}`).length },
  hostelmate: {
    vendor: '/hostelmate',
    write: '/bookings',
    records: (id: number) => {
      const guest = stack.sandbox.hostelmate.guests().find((g) => g.email === `slow.${id}@example.com`);
      return guest ? stack.sandbox.hostelmate.bookings().filter((b) => b.guest.guestId === guest.guestId).length : 0;
    },
  },
} as const;
const modes = ['hang', 'drop', 'lost', 'delay'] as const;

let nextId = 890_000;
describe.each(Object.keys(targets) as Array<keyof typeof targets>)('%s', (target) => {
  it.each(modes)('a %s answer to its first write: one record in the end, synced', async (mode) => {
    const id = ++nextId;
    const { vendor, write, records } = targets[target];
    stack.sandbox.slow({ vendor, mode, method: 'POST', pathIncludes: write, delayMs: 1_500 });
    const handler = syncInstance(stack, `slow-${target}-${mode}`, { now: clock.now });
    const record = hostawayRecord(stack, id, { guestName: `Slow ${id}`, guestEmail: `slow.${id}@example.com` });
    const key = { connectionId: 'hostaway-demo', reservationId: String(id) };
    for (let round = 0; round < 4; round++) {
      await handler({ Records: [record] }, localContext('sync', 60_000));
      const state = await storeFor(stack).getTargetState(key, target);
      if (state?.status === 'synced') break;
      expect(state?.lastError?.permanent).toBe(false);
      // A create whose answer never came is in doubt until its intent's lease ends: then it is looked up, not repeated.
      await new Promise((resolve) => setTimeout(resolve, 1_600)); // a delayed write lands meanwhile
      clock.set(new Date(clock.now() + 70_000).toISOString());
    }
    expect(await storeFor(stack).getTargetState(key, target)).toMatchObject({ status: 'synced' });
    expect(records(id)).toBe(1);
  }, 60_000);
});

/** Records at the target still in force (not deleted or cancelled), by reservation. */
const alive = {
  minut: (id: number) => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === `Lost ${id}`).length,
  kasify: (id: number) => stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).filter((b) => b.channel_id === `hostaway-demo:${id}` && b.status !== 'cancelled').length,
  hostelmate: (id: number) => {
    const guest = stack.sandbox.hostelmate.guests().find((g) => g.email === `lost.${id}@example.com`);
    return guest ? stack.sandbox.hostelmate.bookings().filter((b) => b.guest.guestId === guest.guestId && b.status !== 'cancelled').length : 0;
  },
} as const;

describe.each(Object.keys(alive) as Array<keyof typeof alive>)('%s, cancelled after a create whose every answer was lost', (target) => {
  it('the record that did land is removed', async () => {
    const id = ++nextId;
    const { vendor, write } = targets[target];
    // Every attempt of the first sync is applied at the target, and no answer comes back.
    stack.sandbox.slow({ vendor, mode: 'lost', method: 'POST', pathIncludes: write, count: 10 });
    const handler = syncInstance(stack, `lost-then-cancelled-${target}`, { now: clock.now });
    const key = { connectionId: 'hostaway-demo', reservationId: String(id) };
    const guest = { guestName: `Lost ${id}`, guestFirstName: 'Lost', guestLastName: String(id), guestEmail: `lost.${id}@example.com` };
    await handler({ Records: [hostawayRecord(stack, id, guest)] }, localContext('sync', 60_000));
    expect((await storeFor(stack).getTargetState(key, target))?.lastError).toMatchObject({ permanent: false });
    expect(alive[target](id)).toBe(1);

    stack.sandbox.clearSlow();
    clock.set(new Date(clock.now() + 70_000).toISOString()); // past a create intent's lease
    await handler({ Records: [hostawayRecord(stack, id, { ...guest, status: 'cancelled' })] }, localContext('sync', 60_000));
    expect(await storeFor(stack).getTargetState(key, target)).toMatchObject({ status: 'absent' });
    expect(alive[target](id)).toBe(0);
  }, 60_000);
});
