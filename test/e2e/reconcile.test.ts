import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsQueue } from '../../functions/core/queue.ts';
import { queueReconcile } from '../../functions/sweep/sweep.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { runCli } from '../support/cli.ts';
import { TestClock } from '../support/clock.ts';
import { hostawayDelivery, SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY, SEASIDE_SLUG } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/**
 * `guest-sync reconcile`: drift at the targets (a guest deleted by hand in Minut, a booking edited
 * in Kasify) is repaired; a record guest-sync did not create is reported and left alone; and a
 * reservation whose webhook never came is caught by re-reading the PMS.
 */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});

const key = (id: number) => ({ connectionId: 'hostaway-demo', reservationId: String(id) });
const guest = (id: number) => ({ id, guestName: `Drift ${id}`, guestFirstName: 'Drift', guestLastName: String(id), guestEmail: `drift.${id}@example.com`, reservationUnit: [{ listingUnitId: 8801 }] });
const minutGuest = (id: number) => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === `Drift ${id}`);
const kasifyBooking = (id: number) => stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).find((b) => b.channel_id === `hostaway-demo:${id}`);

describe('guest-sync reconcile', () => {
  it('repairs a guest deleted in Minut and a booking edited in Kasify, and reports a record it did not create', async () => {
    for (const id of [796001, 796002]) await sendHostaway(stack, hostawayDelivery('reservation.created', guest(id)));
    await stack.drain();
    // Behind guest-sync's back: a guest deleted by hand, a booking edited, one booked by hand.
    stack.sandbox.minut.removeGuest(minutGuest(796001)[0]!.guest_id);
    stack.sandbox.kasify.editBooking(kasifyBooking(796002)!.id, { guest_last_name: 'Edited', to: '2026-07-20' });
    const foreign = stack.sandbox.kasify.seedBooking(SEASIDE_KASIFY_PROPERTY, { from: '2026-07-11', to: '2026-07-13', channel: 'airbnb', channel_id: 'HMXYZ', guest_last_name: 'Walkin' });
    const foreignBefore = JSON.stringify(stack.sandbox.kasify.allBookings().find((b) => b.id === foreign.id));

    // A dry run finds the drift and repairs nothing.
    const dry = await runCli(stack, ['reconcile', '--connection', 'hostaway-demo', '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain('drift, found (not repaired: dry run):');
    expect(dry.stdout).toMatch(/minut\s+missing\s+hostaway-demo\/796001/);
    expect(dry.stdout).toMatch(/kasify\s+edited\s+hostaway-demo\/796002 {3}\(guest_last_name, to\)/);
    await stack.drain();
    expect(minutGuest(796001)).toHaveLength(0);
    expect(kasifyBooking(796002)).toMatchObject({ guest_last_name: 'Edited' });

    const run = await runCli(stack, ['reconcile', '--connection', 'hostaway-demo']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('drift, repaired through a resync:');
    expect(run.stdout).toMatch(new RegExp(`kasify\\s+property 219407 {3}${foreign.id}: not created by guest-sync`));
    expect(run.stdout).not.toContain('not compared');
    await stack.drain();
    expect(minutGuest(796001)).toHaveLength(1);
    expect(kasifyBooking(796002)).toMatchObject({ guest_last_name: '796002', to: '2026-07-14' });
    expect(JSON.stringify(stack.sandbox.kasify.allBookings().find((b) => b.id === foreign.id))).toBe(foreignBefore);
    expect(await storeFor(stack).getTargetState(key(796001), 'minut')).toMatchObject({ status: 'synced' });
    // The repair is in the reservation's trace.
    const trace = await runCli(stack, ['trace', 'hostaway-demo', '796001']);
    expect(trace.stdout).toMatch(/resync \(reconcile\)\n\s+minut\s+created/);

    // Nothing left to repair.
    const again = await runCli(stack, ['reconcile', '--connection', 'hostaway-demo', '--dry-run']);
    expect(again.stdout).toContain('no drift: every target holds what guest-sync applied');
  });

  it('counts what it compared once when a step is retried (Kasify failing its list)', async () => {
    await sendHostaway(stack, hostawayDelivery('reservation.created', guest(796101)));
    await stack.drain();
    const compared = (stdout: string) => /compared: (.*)/.exec(stdout)?.[1];
    const clean = await runCli(stack, ['reconcile', '--connection', 'hostaway-demo', '--dry-run']);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(compared(clean.stdout)).toMatch(/minut [1-9]\d* record\(s\)/);
    // Every attempt at Kasify's list fails once Minut has been compared: the step is retried.
    stack.sandbox.kasify.failNext({ status: 503, count: 3, retryAfter: 1, method: 'GET', pathIncludes: '/bookings' });
    const retried = await runCli(stack, ['reconcile', '--connection', 'hostaway-demo', '--dry-run']);
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(stack.sandbox.kasify.requestLog().filter((e) => e.status === 503)).toHaveLength(3);
    expect(compared(retried.stdout)).toBe(compared(clean.stdout));
  });

  it('catches a reservation whose webhook was never sent, by re-reading the PMS', async () => {
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    stack.sandbox.lodgify.bookings.put({
      id: 886001,
      property_id: 331207,
      status: 'Booked',
      arrival: day(20),
      departure: day(23),
      check_in: { time: '15:00:00', initiator: 'Property' },
      check_out: { time: '11:00:00', initiator: 'Property' },
      guest: { name: 'Never Sent', email: 'never.sent@example.com', phone: null, country_code: 'SE' },
      language: 'sv',
      rooms: [{ room_type_id: 390011, guest_breakdown: { adults: 1, children: 0, infants: 0, pets: 0 }, people: 1 }],
      updated_at: '2026-05-02T09:14:30+00:00',
      canceled_at: null,
      is_deleted: false,
    });
    const run = await runCli(stack, ['reconcile', '--connection', 'lodgify-demo']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/PMS re-read \(webhooks never sent\): backfill \S+/);
    await stack.drain(60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await stack.drain(60_000);
    expect(stack.sandbox.minut.guests('home_demo_lodgify').filter((g) => g.name === 'Never Sent')).toHaveLength(1);
  });

  it('runs on its schedule: the sweep, invoked with {"reconcile": true}, queues a run over every connection', async () => {
    const result = await queueReconcile({ config: stack.config, store: storeFor(stack), queue: new SqsQueue(stack.sqs, stack.queueUrl), now: Date.now });
    await stack.drain(60_000);
    const job = await storeFor(stack).getReconcileJob(result.jobId);
    expect(job).toMatchObject({ status: 'done', connectionId: null, dryRun: false });
    expect(Object.keys(job!.checked)).toEqual(expect.arrayContaining(['minut', 'kasify']));
  });
});

describe('guest-sync reconcile, in house', () => {
  const clock = new TestClock('2026-07-11T10:00:00Z'); // during the fixture's 10–14 July stay: RecepAI holds the guest
  let inHouse: LocalStack;
  beforeAll(async () => {
    inHouse = await startTestStack({ now: clock.now, sweepIntervalMs: null });
  });
  afterAll(async () => {
    await inHouse?.stop();
  });

  it('repairs a guest checked out by hand in RecepAI and a booking cancelled by hand in HostelMate', async () => {
    await sendHostaway(inHouse, hostawayDelivery('reservation.created', guest(797001)));
    await inHouse.drain();
    const pmsGuestId = 'hostaway-demo:797001';
    const bookingId = (await storeFor(inHouse).getTargetState(key(797001), 'hostelmate'))!.targetIds.bookingId!;
    const active = () => inHouse.sandbox.recepai.activeGuests(SEASIDE_SLUG).some((g) => g.pmsGuestId === pmsGuestId);
    const booking = () => inHouse.sandbox.hostelmate.bookings().find((b) => b.id === bookingId);
    expect(active()).toBe(true);
    inHouse.sandbox.recepai.checkOutAtFrontDesk(SEASIDE_SLUG, pmsGuestId);
    inHouse.sandbox.hostelmate.editBooking(bookingId, { status: 'cancelled' });

    const run = await runCli(inHouse, ['reconcile', '--connection', 'hostaway-demo']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/recepai\s+missing\s+hostaway-demo\/797001/);
    expect(run.stdout).toMatch(/hostelmate\s+missing\s+hostaway-demo\/797001/);
    await inHouse.drain();
    expect(active()).toBe(true);
    expect(booking()).toMatchObject({ status: 'confirmed' });
    const again = await runCli(inHouse, ['reconcile', '--connection', 'hostaway-demo', '--dry-run']);
    expect(again.stdout).toContain('no drift');
  });
});
