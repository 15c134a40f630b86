import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => stack.sandbox.minut.reset());

const stateOf = (id: number) => storeFor(stack).getTargetState({ connectionId: 'hostaway-demo', reservationId: String(id) }, 'minut');
const named = (name: string) => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === name);

describe('Minut errors', () => {
  it('retries 5xx answers and then syncs', async () => {
    stack.sandbox.minut.failNext({ status: 503, count: 3, method: 'POST', pathIncludes: '/guests' });
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 770001, guestName: 'Flaky Five' }));
    await stack.drain();
    expect(named('Flaky Five')).toHaveLength(1);
    expect(await stateOf(770001)).toMatchObject({ status: 'synced', lastError: null });
  });

  it('records another 4xx as a permanent failure with its error_key, without retrying the same content', async () => {
    stack.sandbox.minut.failNext({ status: 400, count: 1, method: 'POST', pathIncludes: '/guests' });
    const base = { id: 770002, guestName: 'Refused Once' };
    await sendHostaway(stack, hostawayDelivery('reservation.created', base));
    await stack.drain();
    expect(named('Refused Once')).toHaveLength(0);
    expect(await stateOf(770002)).toMatchObject({ status: 'failed', lastError: { code: 'injected_failure', permanent: true } });
    const posts = () => stack.sandbox.minut.requestLog().filter((e) => e.route === 'POST /homes/:home_id/guests').length;
    expect(posts()).toBe(1);

    // The same content again (a PMS duplicate) is not retried blindly...
    await sendHostaway(stack, JSON.stringify(hostawayDelivery('reservation.created', { ...base, updatedOn: '2020-01-01 00:00:00' })));
    await stack.drain();
    expect(posts()).toBe(1);
    // ...but a change to the reservation is tried again, and succeeds.
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, departureDate: '2026-07-15' }));
    await stack.drain();
    expect(named('Refused Once')).toHaveLength(1);
    expect(await stateOf(770002)).toMatchObject({ status: 'synced', lastError: null });
  });

  it('gets a new token when Minut rejects the cached one', async () => {
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 770003, guestName: 'Token One' }));
    await stack.drain();
    stack.sandbox.minut.expireTokens();
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 770004, guestName: 'Token Two' }));
    await stack.drain();
    expect(named('Token Two')).toHaveLength(1);
    expect(stack.sandbox.minut.counters().tokenGrants).toBe(1); // reset() cleared the first grant's count
  });
});
