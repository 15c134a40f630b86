import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import type { Reservation } from '../../functions/core/reservation.ts';
import { bookingIdOf } from '../../functions/targets/hostelmate.ts';
import { runCli } from '../support/cli.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../support/hostaway.ts';
import { exampleConfigWith } from '../support/config.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/** `guest-sync trace`: the timeline sync writes as it works, read back by an operator. */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ maxBackoffSeconds: 1 });
});
afterAll(async () => {
  await stack?.stop();
});

describe('guest-sync trace', () => {
  it('shows a reservation that was created, retried, moved and cancelled, with no guest data', async () => {
    const id = 791001;
    const guest = { guestName: 'Tracy Timeline', guestFirstName: 'Tracy', guestLastName: 'Timeline', guestEmail: 'tracy.timeline@example.com' };
    // Minut answers 503 to every attempt the HTTP client makes inline (3): the message is retried.
    stack.sandbox.minut.failNext({ status: 503, count: 3, method: 'POST', pathIncludes: '/guests' });
    const created = hostawayDelivery('reservation.created', { id, ...guest });
    expect((await sendHostaway(stack, created)).status).toBe(202);
    await stack.drain();
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Tracy Timeline')).toHaveLength(1);
    // The same delivery again (a PMS retry), then the stay moves, then it is cancelled.
    await sendHostaway(stack, JSON.stringify({ ...created, _redelivered: true }));
    await stack.drain();
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { id, ...guest, status: 'modified', departureDate: '2026-07-16' }));
    await stack.drain();
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { id, ...guest, status: 'cancelled', departureDate: '2026-07-16' }));
    await stack.drain();
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'Tracy Timeline')).toHaveLength(0);

    const text = await runCli(stack, ['trace', 'hostaway-demo', String(id)]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(`Trace of hostaway-demo/${id}: 5 step(s), oldest first`);
    const steps = lines.filter((line) => /^\d{4}-/.test(line));
    expect(steps).toHaveLength(5);
    expect(steps[0]).toMatch(/delivery \S+ {2}confirmed \(PMS: new\) version \d+ {2}snapshot created$/);
    expect(steps[1]).toMatch(/delivery \S+ \(attempt 2\) {2}confirmed .* snapshot duplicate$/);
    expect(steps[2]).toMatch(/snapshot duplicate$/);
    expect(steps[3]).toMatch(/confirmed \(PMS: modified\) .*snapshot newer: .*stay\.checkOutDate/);
    expect(steps[4]).toMatch(/cancelled \(PMS: cancelled\) .*snapshot newer: .*sourceStatus, status/);
    const minut = lines.filter((line) => line.trimStart().startsWith('minut')).map((line) => line.trim().replace(/\s+/g, ' '));
    expect(minut).toEqual(['minut failed http_503 (will retry)', expect.stringMatching(/^minut (created|adopted)$/), 'minut unchanged', 'minut updated', 'minut deleted']);
    // Names, emails and phone numbers never appear in the timeline.
    expect(text.stdout).not.toMatch(/Tracy|Timeline|example\.com/);

    const json = await runCli(stack, ['trace', 'hostaway-demo', String(id), '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { steps: { snapshot: string; attempt?: number; changed?: string[]; targets: { target: string; action: string; code?: string }[] }[] };
    expect(parsed.steps.map((s) => s.snapshot)).toEqual(['created', 'duplicate', 'duplicate', 'newer', 'newer']);
    expect(parsed.steps[0]!.targets.find((t) => t.target === 'minut')).toEqual({ target: 'minut', action: 'failed', code: 'http_503', permanent: false });
    expect(parsed.steps[3]!.changed).toEqual(['sourceStatus', 'stay.checkOutDate']);
  });

  it('costs no write of its own where a target state is written anyway: steps ride on it, and move to one item when it is full', async () => {
    // The seaside listing routed to Minut alone: every delivery that changes the guest writes Minut's state.
    const minutOnly = await startTestStack({
      configPath: exampleConfigWith((config) => {
        const listing = (config.connections as Record<string, { properties: Record<string, { targets: Record<string, unknown> }> }>)['hostaway-demo']!.properties['219407']!;
        listing.targets = { minut: listing.targets.minut };
      }),
    });
    try {
      const id = 791003;
      const guest = { guestName: 'Riding Steps', guestFirstName: 'Riding', guestLastName: 'Steps' };
      await sendHostaway(minutOnly, hostawayDelivery('reservation.created', { id, ...guest }));
      await minutOnly.drain();
      const days = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22];
      for (const day of days) {
        await sendHostaway(minutOnly, hostawayDelivery('reservation.updated', { id, ...guest, status: 'modified', departureDate: `2026-07-${day}` }));
        await minutOnly.drain();
      }
      const key = { connectionId: 'hostaway-demo', reservationId: String(id) };
      const store = storeFor(minutOnly);
      const steps = await store.listTrace(key);
      expect(steps.map((s) => s.snapshot)).toEqual(['created', ...days.map(() => 'newer')]);
      expect(steps.map((s) => s.targets)).toEqual([[{ target: 'minut', action: 'created' }], ...days.map(() => [{ target: 'minut', action: 'updated' }])]);
      expect(steps.map((s) => s.at)).toEqual(steps.map((s) => s.at).sort((a, b) => a - b));
      const state = (await store.getTargetState(key, 'minut'))!;
      const items = await minutOnly.dynamodb.send(
        new QueryCommand({ TableName: minutOnly.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :trace)', ExpressionAttributeValues: { ':pk': { S: `RES#hostaway-demo#${id}` }, ':trace': { S: 'TRACE#' } } }),
      );
      // Thirteen steps: the latest carried by Minut's state, the earlier ones moved off it several at a time.
      expect(state.trace!.length).toBeGreaterThanOrEqual(2);
      expect(items.Count).toBeGreaterThanOrEqual(1);
      expect(items.Count).toBeLessThanOrEqual(3);
      expect(store.targetStateBytes(key, state)).toBeLessThanOrEqual(1024);
    } finally {
      await minutOnly.stop();
    }
  });

  it('rides on HostelMate state when HostelMate decides last, within one write unit even for a two-week stay', async () => {
    // All four targets; HostelMate answers last, so its outcome write is the one that can carry
    // the step. Its state keeps what it last sent (room, nights, guest): the nights by their
    // fingerprint, not one entry each, so a long stay leaves the state room for the step.
    const id = 791004;
    const guest = { guestName: 'Last Decider', guestFirstName: 'Last', guestLastName: 'Decider', guestEmail: 'last.decider@example.com' };
    const key = { connectionId: 'hostaway-demo', reservationId: String(id) };
    const store = storeFor(stack);
    const traceItems = async () =>
      (
        await stack.dynamodb.send(
          new QueryCommand({ TableName: stack.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :trace)', ExpressionAttributeValues: { ':pk': { S: `RES#hostaway-demo#${id}` }, ':trace': { S: 'TRACE#' } } }),
        )
      ).Count;
    const booking = () => stack.sandbox.hostelmate.bookings().find((b) => b.id === bookingIdOf({ connectionId: 'hostaway-demo', reservationId: String(id) } as Reservation));

    stack.sandbox.slow({ vendor: '/hostelmate', mode: 'delay', delayMs: 500, count: 10 });
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id, ...guest, arrivalDate: '2027-03-01', departureDate: '2027-03-15' }));
    await stack.drain();
    expect(booking()?.dates).toHaveLength(14);
    const created = (await store.getTargetState(key, 'hostelmate'))!;
    expect(created.trace?.map((s) => s.targets.map((t) => `${t.target} ${t.action}`))).toEqual([['minut created', 'recepai unchanged', 'kasify created', 'hostelmate created']]);
    expect(store.targetStateBytes(key, created)).toBeLessThanOrEqual(1024);
    expect(await traceItems()).toBe(0);

    // One night more: HostelMate gets the new dates (its kept nights differ), and carries that step too.
    stack.sandbox.slow({ vendor: '/hostelmate', mode: 'delay', delayMs: 500, count: 10 });
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { id, ...guest, status: 'modified', arrivalDate: '2027-03-01', departureDate: '2027-03-16' }));
    await stack.drain();
    expect(booking()?.dates).toHaveLength(15);
    const updated = (await store.getTargetState(key, 'hostelmate'))!;
    expect(updated.trace?.at(-1)?.targets.map((t) => `${t.target} ${t.action}`)).toEqual(['minut updated', 'recepai unchanged', 'kasify updated', 'hostelmate updated']);
    expect(store.targetStateBytes(key, updated)).toBeLessThanOrEqual(1024);
    expect((await store.listTrace(key)).map((s) => s.snapshot)).toEqual(['created', 'newer']);
  });

  it('says so for a reservation it has never seen', async () => {
    const run = await runCli(stack, ['trace', 'hostaway-demo', 'never-seen']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('No trace for hostaway-demo/never-seen');
  });

  it('writes no timeline when the config turns it off ("trace": false), and syncs all the same', async () => {
    const quiet = await startTestStack({ configPath: exampleConfigWith((config) => (config.trace = false)) });
    try {
      await sendHostaway(quiet, hostawayDelivery('reservation.created', { id: 791002, guestName: 'No Trace' }));
      await quiet.drain();
      expect(quiet.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === 'No Trace')).toHaveLength(1);
      expect(await storeFor(quiet).listTrace({ connectionId: 'hostaway-demo', reservationId: '791002' })).toEqual([]);
    } finally {
      await quiet.stop();
    }
  });
});
