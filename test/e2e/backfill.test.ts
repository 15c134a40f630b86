import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { runCli } from '../support/cli.ts';
import { exampleConfigWith } from '../support/config.ts';
import { startTestStack, storeFor } from '../support/stack.ts';

/**
 * `guest-sync backfill`: a host connects a property with stays already booked. The PMS sends no
 * webhook for them; backfill reads them from the PMS API (with paging) and syncs each once.
 */
let stack: LocalStack;
beforeAll(async () => {
  // Minut only, so 50+ guests are created quickly; the other targets take the same path.
  const configPath = exampleConfigWith((config) => {
    config.connections['lodgify-demo'].properties['331207'].targets = { minut: { homeId: 'home_demo_lodgify' } };
  });
  stack = await startTestStack({ configPath, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});

const HOME = 'home_demo_lodgify';
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
function booking(id: number, arrival: string, departure: string, propertyId = 331207): Record<string, unknown> {
  return {
    id,
    property_id: propertyId,
    status: 'Booked',
    arrival,
    departure,
    check_in: { time: '15:00:00', initiator: 'Property' },
    check_out: { time: '11:00:00', initiator: 'Property' },
    guest: { name: `Back Fill ${id}`, email: `back.fill.${id}@example.com`, phone: null, country_code: 'SE' },
    language: 'sv',
    rooms: [{ room_type_id: 390011, guest_breakdown: { adults: 2, children: 0, infants: 0, pets: 0 }, people: 2 }],
    updated_at: '2026-05-02T09:14:30+00:00',
    canceled_at: null,
    is_deleted: false,
  };
}
const minutWrites = () => stack.sandbox.minut.requestLog().filter((e) => e.method !== 'GET' && !e.route.includes('token')).length;
const ours = () => stack.sandbox.minut.guests(HOME).filter((g) => g.name.startsWith('Back Fill'));

describe('guest-sync backfill', () => {
  it('plans, then creates each upcoming and in-house guest once across pages, and a second run changes nothing', async () => {
    const lodgify = stack.sandbox.lodgify;
    lodgify.reset();
    for (const b of lodgify.bookings.all()) lodgify.bookings.delete(b.id as number);
    // 52 upcoming stays (two pages of 50), one in house, and what a backfill must leave out.
    for (let i = 0; i < 52; i++) lodgify.bookings.put(booking(881000 + i, day(10 + i), day(12 + i)));
    lodgify.bookings.put(booking(881100, day(-1), day(2))); // in house
    lodgify.bookings.put(booking(881101, day(-30), day(-25))); // over
    lodgify.bookings.put(booking(881102, day(400), day(402))); // beyond the default window of a year
    lodgify.bookings.put(booking(881103, day(20), day(22), 999999)); // another property: not with --property

    // A dry run calls no target and says what each would get.
    const dry = await runCli(stack, ['backfill', 'lodgify-demo', '--property', '331207', '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/DONE \(dry run\), \d+ page\(s\), 53 reservation\(s\) listed/);
    expect(dry.stdout).toMatch(/minut\s+create 53\n/);
    expect(dry.stdout).toContain('would create minut      lodgify-demo/881100');
    expect(minutWrites()).toBe(0);

    const run = await runCli(stack, ['backfill', 'lodgify-demo', '--property', '331207']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/DONE, 3 page\(s\), 53 reservation\(s\) listed/);
    expect(run.stdout).toContain('53 queued to sync like webhooks');
    await stack.drain(120_000);
    const names = ours().map((g) => g.name).sort();
    expect(names).toHaveLength(53);
    expect(new Set(names).size).toBe(53);
    expect(names).not.toContain('Back Fill 881101');
    expect(names).not.toContain('Back Fill 881102');
    expect(names).not.toContain('Back Fill 881103');
    // Each went through the webhook path: a snapshot and a trace step.
    expect(await storeFor(stack).getSnapshot({ connectionId: 'lodgify-demo', reservationId: '881100' })).toBeDefined();
    expect((await storeFor(stack).listTrace({ connectionId: 'lodgify-demo', reservationId: '881100' }))[0]).toMatchObject({ deliveryId: expect.stringMatching(/^backfill:/), snapshot: 'created' });

    // Run again: nothing changes at the target, and a dry run now plans nothing.
    const writes = minutWrites();
    const again = await runCli(stack, ['backfill', 'lodgify-demo', '--property', '331207']);
    expect(again.code).toBe(0);
    await stack.drain(120_000);
    expect(minutWrites()).toBe(writes);
    expect(ours()).toHaveLength(53);
    const dryAgain = await runCli(stack, ['backfill', 'lodgify-demo', '--property', '331207', '--dry-run']);
    expect(dryAgain.stdout).toMatch(/minut\s+nothing 53\n/);
  });

  it('without --property, stays of an unconfigured property are counted as unrouted; a PMS without a list API is refused', async () => {
    const run = await runCli(stack, ['backfill', 'lodgify-demo', '--dry-run']);
    expect(run.stdout).toContain('1 of a property missing from the config');
    const refused = await runCli(stack, ['backfill', 'generic-demo']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('connection "generic-demo" (generic) cannot be backfilled');
  });

  it('creates each guest once in every routed target (Hostaway, all four), and a second run changes nothing', async () => {
    const fixture = JSON.parse(readFileSync('examples/hostaway-reservation.created.json', 'utf8')) as { data: Record<string, unknown> };
    const put = (id: number, arrivalDate: string, departureDate: string, unit: number) =>
      stack.sandbox.hostaway.reservations.put({ ...fixture.data, id, guestName: `All Back ${id}`, guestFirstName: 'All Back', guestLastName: String(id), guestEmail: `all.back.${id}@example.com`, arrivalDate, departureDate, reservationUnit: [{ listingUnitId: unit }], updatedOn: '2026-05-02 09:14:27' });
    put(883001, day(-1), day(2), 8801); // in house: RecepAI holds it too
    put(883002, day(30), day(33), 8802);
    const writes = () => ({
      minut: stack.sandbox.minut.requestLog().filter((e) => e.method !== 'GET' && !e.route.includes('token')).length,
      recepai: stack.sandbox.recepai.requestLog().filter((e) => e.method !== 'GET').length,
      kasify: stack.sandbox.kasify.requestLog().filter((e) => e.method !== 'GET').length,
      hostelmate: stack.sandbox.hostelmate.requestLog().filter((e) => e.method !== 'GET').length,
    });
    const before = writes();
    const run = await runCli(stack, ['backfill', 'hostaway-demo', '--property', '219407']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await stack.drain(120_000);
    const ids = (id: number) => ({ connectionId: 'hostaway-demo', reservationId: String(id) });
    for (const id of [883001, 883002]) {
      const states = Object.fromEntries((await storeFor(stack).listTargetStates(ids(id))).map((t) => [t.target, t.status]));
      expect(states, String(id)).toEqual({ minut: 'synced', recepai: id === 883001 ? 'synced' : 'absent', kasify: 'synced', hostelmate: 'synced' });
    }
    expect(stack.sandbox.minut.guests('home_demo_seaside').filter((g) => g.name.startsWith('All Back'))).toHaveLength(2);
    expect(stack.sandbox.recepai.activeGuests('seaside-hotel').filter((g) => g.pmsGuestId === 'hostaway-demo:883001')).toHaveLength(1);
    expect(stack.sandbox.kasify.allBookings().filter((b) => String(b.channel_id).startsWith('hostaway-demo:88300'))).toHaveLength(2);
    const after = writes();
    expect(after.hostelmate).toBeGreaterThan(before.hostelmate);

    const again = await runCli(stack, ['backfill', 'hostaway-demo', '--property', '219407']);
    expect(again.code).toBe(0);
    await stack.drain(120_000);
    expect(writes()).toEqual(after);
  });
});
