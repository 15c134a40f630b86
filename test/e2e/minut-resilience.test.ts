import { afterEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { syncWorkerNames } from '../../infra/local/workers.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../support/hostaway.ts';
import { exampleConfigWith } from '../support/config.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const CREATE = 'POST /homes/:home_id/guests';

describe('Minut: no duplicate guests', () => {
  it('a create whose response is lost is matched on retry, even past the first page and beside a same-time guest', async () => {
    stack = await startTestStack();
    const minut = stack.sandbox.minut;
    // 130 guests already in the home (more than one page), one with the very same check-in time.
    for (let i = 0; i < 129; i++) minut.seedGuest(SEASIDE_HOME, { name: `Other Guest ${i}`, checkin_time: `2026-0${1 + (i % 6)}-0${1 + (i % 9)}T13:00:00Z`, checkout_time: '2026-09-30T09:00:00Z' });
    minut.seedGuest(SEASIDE_HOME, { name: 'Same Time Other', checkin_time: '2026-07-10T13:00:00Z', checkout_time: '2026-07-12T09:00:00Z' });
    minut.dropConnectionAfterCreate(1);

    const delivery = hostawayDelivery('reservation.created', { id: 720001, guestName: 'Lost Response', guestFirstName: 'Lost', guestLastName: 'Response' });
    expect((await sendHostaway(stack, delivery)).status).toBe(202);
    await stack.drain();
    // And the PMS redelivers it, as a new delivery.
    expect((await sendHostaway(stack, JSON.stringify(delivery, null, 2))).status).toBe(202);
    await stack.drain();

    const ours = minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Lost Response');
    expect(ours).toHaveLength(1);
    expect(minut.guests(SEASIDE_HOME)).toHaveLength(131);
    expect(minut.requestLog().filter((e) => e.route === CREATE)).toHaveLength(1);
    const state = await storeFor(stack).getTargetState({ connectionId: 'hostaway-demo', reservationId: '720001' }, 'minut');
    expect(state).toMatchObject({ status: 'synced', targetIds: { homeId: SEASIDE_HOME, guestId: ours[0]!.guest_id }, intent: null });
  });

  it('two reservations of one person for the same stay stay two guests: cancelling one leaves the other', async () => {
    stack = await startTestStack();
    const minut = stack.sandbox.minut;
    // Booked twice (say, through two channels): same name, same dates, two reservations.
    const twin = { guestName: 'Twin Booking', guestFirstName: 'Twin', guestLastName: 'Booking' };
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 720101, ...twin }));
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 720102, ...twin }));
    await stack.drain();
    expect(minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Twin Booking')).toHaveLength(2);
    // No look-up was needed for either create: nothing said the guest could already be there.
    expect(minut.requestLog().filter((e) => e.method === 'GET' && e.route === CREATE.replace('POST', 'GET'))).toEqual([]);

    await sendHostaway(stack, hostawayDelivery('reservation.updated', { id: 720101, ...twin, status: 'cancelled' }));
    await stack.drain();
    const left = minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Twin Booking');
    expect(left).toHaveLength(1);
    const kept = await storeFor(stack).getTargetState({ connectionId: 'hostaway-demo', reservationId: '720102' }, 'minut');
    expect(kept).toMatchObject({ status: 'synced', targetIds: { guestId: left[0]!.guest_id } });
  });

  it('in a home marked nativeIntegration, a guest already there from Minut\'s own connector is left alone, and the state says so', async () => {
    stack = await startTestStack({ configPath: exampleConfigWith((c) => (c.connections['hostaway-demo'].properties['219407'].targets.minut.nativeIntegration = true)) });
    const minut = stack.sandbox.minut;
    const native = minut.seedGuest(SEASIDE_HOME, {
      name: 'Maria Lindqvist',
      checkin_time: '2026-07-10T13:00:00Z',
      checkout_time: '2026-07-14T09:00:00Z',
      source: 'hostaway',
      readonly: true,
    });
    const base = { id: 720002, guestName: 'Maria Lindqvist', guestFirstName: 'Maria', guestLastName: 'Lindqvist' };
    await sendHostaway(stack, hostawayDelivery('reservation.created', base));
    await stack.drain();
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'modified', departureDate: '2026-07-15' }));
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'cancelled', departureDate: '2026-07-15' }));
    await stack.drain();

    expect(minut.guests(SEASIDE_HOME)).toEqual([native]);
    const writes = minut.requestLog().filter((e) => e.method !== 'GET' && !e.path.endsWith('/oauth/token'));
    expect(writes).toEqual([]);
    const state = await storeFor(stack).getTargetState({ connectionId: 'hostaway-demo', reservationId: '720002' }, 'minut');
    expect(state).toMatchObject({ status: 'readonly', targetIds: { guestId: native.guest_id }, warnings: ['readonly_guest'] });
  });
});

describe('Minut: tokens and rate limits across concurrent workers', () => {
  it('two sync instances share one token and wait out every Retry-After before their next request', async () => {
    // Below the configured 1.8 requests/s: the vendor's real limit is lower than configured, so 429s come.
    // A reservation that meets three in a row is parked as pending until the sweep brings it back
    // (pauseSeconds): short here, so the test sees every guest arrive.
    const configPath = exampleConfigWith((c) => (c.circuitBreaker = { ...c.circuitBreaker, pauseSeconds: 2 }));
    stack = await startTestStack({ configPath, syncWorkers: 2, sweepIntervalMs: 1_000, minut: { rateLimit: { perSecond: 1 }, retryAfterSeconds: 1 } });
    const minut = stack.sandbox.minut;
    const count = 12;
    for (let i = 0; i < count; i++) {
      await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 730000 + i, guestName: `Burst ${i}`, guestFirstName: 'Burst', guestLastName: String(i) }));
    }
    const burstGuests = () => minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Burst '));
    // Drained and every guest there: a parked reservation comes back with the sweep.
    for (const deadline = Date.now() + 90_000; ; ) {
      await stack.drain(90_000);
      if (burstGuests().length >= count || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    expect(burstGuests()).toHaveLength(count);
    const log = minut.requestLog();
    // One token lifetime (an hour) covers the run: exactly one grant for every worker (the two, and Minut's lane).
    expect(minut.counters().tokenGrants).toBe(1);
    const workers = [...new Set(log.map((e) => e.userAgent))];
    expect(workers.length).toBeGreaterThan(1);
    const known = syncWorkerNames(2, ['minut']).map((w) => `guest-sync (${w.instanceId})`);
    for (const worker of workers) expect(known).toContain(worker);

    const limited = log.filter((e) => e.status === 429);
    expect(limited.length).toBeGreaterThan(0); // the limit really was hit
    for (const hit of limited) {
      const next = log.find((e) => e.userAgent === hit.userAgent && e.at > hit.at);
      if (next) expect(next.at - hit.at).toBeGreaterThanOrEqual(hit.retryAfter! * 1000);
    }
  });

  it('refreshes a short-lived token once per lifetime, not once per worker', async () => {
    stack = await startTestStack({ syncWorkers: 2, minut: { tokenTtlSeconds: 3, rateLimit: null } });
    const minut = stack.sandbox.minut;
    const started = Date.now();
    for (let i = 0; i < 8; i++) {
      await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 740000 + i, guestName: `Token ${i}`, guestFirstName: 'Token', guestLastName: String(i) }));
      await new Promise((r) => setTimeout(r, 900));
    }
    await stack.drain();
    const elapsed = Date.now() - started;
    const grants = minut.requestLog().filter((e) => e.path.endsWith('/oauth/token') && e.status === 200).map((e) => e.at);
    expect(minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Token '))).toHaveLength(8);
    // Refreshed at 90% of the 3 s lifetime: consecutive grants are at least 2.7 s apart.
    for (let i = 1; i < grants.length; i++) expect(grants[i]! - grants[i - 1]!).toBeGreaterThanOrEqual(2_700);
    expect(grants.length).toBeLessThanOrEqual(Math.ceil(elapsed / 2_700) + 1);
    expect(grants.length).toBeGreaterThan(1);
  });
});
