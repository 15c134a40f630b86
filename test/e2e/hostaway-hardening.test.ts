import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/** Hostaway shapes seen in production beyond the documented one, through the real path. */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const named = (name: string) => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === name);

describe('Hostaway hardening', () => {
  it('accepts the payload.data nesting and a null last name', async () => {
    const inner = hostawayDelivery('reservation.created', { id: 760001, guestName: 'Cher', guestFirstName: 'Cher', guestLastName: null });
    const reply = await sendHostaway(stack, { payload: inner });
    expect(reply.status).toBe(202);
    await stack.drain();
    expect(named('Cher')).toHaveLength(1);
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'hostaway-demo', reservationId: '760001' });
    expect(snapshot?.reservation.guest).toMatchObject({ firstName: 'Cher', lastName: null });
  });

  it('reads updatedOn (no zone, whole seconds) the same way every time: two updates in one second, the later message wins', async () => {
    const base = { id: 760002, guestName: 'Same Second', guestFirstName: 'Same', guestLastName: 'Second', updatedOn: '2026-05-03 10:00:00' };
    await sendHostaway(stack, hostawayDelivery('reservation.created', base));
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'modified', departureDate: '2026-07-15' }));
    await stack.drain();
    expect(named('Same Second')).toEqual([expect.objectContaining({ checkout_time: '2026-07-15T09:00:00.000Z' })]);
    const snapshot = await storeFor(stack).getSnapshot({ connectionId: 'hostaway-demo', reservationId: '760002' });
    expect(snapshot?.reservation.sourceVersion).toBe(Date.parse('2026-05-03T10:00:00Z'));
    // An older updatedOn afterwards changes nothing.
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, updatedOn: '2026-05-03 09:59:59', status: 'cancelled' }));
    await stack.drain();
    expect(named('Same Second')).toHaveLength(1);
  });
});
