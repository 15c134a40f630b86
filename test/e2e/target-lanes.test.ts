import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { exampleConfigWith, eventually } from '../support/config.ts';
import { hostawayDelivery, SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY } from '../support/hostaway.ts';
import { sendHostaway, startTestStack } from '../support/stack.ts';

/**
 * Each target drains its own backlog: Kasify, configured far slower than the others, takes its
 * work on its own lane, so Minut and HostelMate hold every guest of a backlog while Kasify is
 * still working through it, instead of moving at Kasify's pace.
 */
const RESERVATIONS = 20;
let stack: LocalStack;
beforeAll(async () => {
  const configPath = exampleConfigWith((config) => {
    config.targets.kasify.requestsPerSecond = 0.5;
    config.targets.kasify.burst = 1;
    config.targets.minut.requestsPerSecond = 4;
  });
  stack = await startTestStack({ configPath, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});

const minutGuests = () => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Lane Test '));
const kasifyBookings = () => stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).filter((b) => b.channel_id?.startsWith('hostaway-demo:871'));
const hostelmateGuests = () => stack.sandbox.hostelmate.guests().filter((g) => g.email.startsWith('lane.test.'));

describe('a slow target on its own lane', () => {
  it('holds up no other target, and still gets every guest once, in its own time', async () => {
    for (let i = 0; i < RESERVATIONS; i++) {
      const id = 871000 + i;
      const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id, guestName: `Lane Test ${id}`, guestFirstName: 'Lane Test', guestLastName: String(id), guestEmail: `lane.test.${id}@example.com` }));
      expect(reply.status).toBe(202);
    }
    // Minut finishes the backlog at its own pace (about 5 s)...
    await eventually(() => minutGuests().length === RESERVATIONS, 120_000, 'Minut holds every guest');
    // ...while Kasify (one call every 2 s) has done less than half of it. Were the targets coupled,
    // Minut would get the second half of the backlog only once Kasify had done the first.
    expect(kasifyBookings().length).toBeLessThan(RESERVATIONS / 2);

    await stack.drain(180_000);
    for (const records of [minutGuests().map((g) => g.name), kasifyBookings().map((b) => b.channel_id), hostelmateGuests().map((g) => g.email)]) {
      expect(records).toHaveLength(RESERVATIONS);
      expect(new Set(records).size).toBe(RESERVATIONS);
    }
    const kasifyLog = stack.sandbox.kasify.requestLog();
    expect(kasifyLog.filter((e) => e.status === 429)).toHaveLength(0);
    // Most of Kasify's work was done by its lane's worker (it names itself in its User-Agent).
    const byLane = kasifyLog.filter((e) => e.userAgent?.includes('local-lane-kasify')).length;
    expect(byLane).toBeGreaterThan(RESERVATIONS / 2);
  }, 300_000);
});
