import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../functions/core/store.ts';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { SEASIDE_HOME } from '../support/hostaway.ts';
import { hostawayRecord, startMinutOnlyStack, syncInstance } from '../support/sync.ts';

/**
 * A cold sync worker's first create at Minut needs three things before its POST: the create's
 * intent in the table, the shared token (a read, and a grant when none is stored) and a share of
 * the account's rate (a lease written, the others counted). The last two start as sync decides to
 * call, beside the intent's write, not one after another behind it: on Lambda the token grant is
 * a round trip to the vendor.
 */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startMinutOnlyStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** The store, with the start and the end of each call it answers, in order. */
function timeline(store: Store, events: string[]): Store {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return async (...args: unknown[]) => {
        events.push(`start ${name}`);
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          events.push(`end ${name}`);
        }
      };
    },
  });
}

describe("a cold worker's first call", () => {
  it('reads the token and joins the rate share while the create intent is written, and creates the guest once', async () => {
    const events: string[] = [];
    const handler = syncInstance(stack, 'first-call-worker', { store: (store) => timeline(store, events) });
    const reply = await handler({ Records: [hostawayRecord(stack, 880001, { guestName: 'First Call', guestFirstName: 'First', guestLastName: 'Call' })] }, localContext('first-call-worker', 60_000));
    expect(reply.batchItemFailures).toEqual([]);
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'First Call')).toHaveLength(1);

    // The intent is the first target state written; the token read and the lease write start before it is answered.
    const intentAnswered = events.indexOf('end putTargetState');
    expect(intentAnswered).toBeGreaterThan(0);
    expect(events.indexOf('start getToken')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('start getToken')).toBeLessThan(intentAnswered);
    expect(events.indexOf('start renewRateLease')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('start renewRateLease')).toBeLessThan(intentAnswered);
  });
});
