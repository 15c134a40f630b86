import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { runCli } from '../support/cli.ts';
import { exampleConfigWith } from '../support/config.ts';
import { HOTEL_PMSS, type Stay } from '../support/hotel-pms.ts';
import { smilyBooking, smilyClient } from '../support/pms.ts';
import { RENTAL_PMSS, type Booking } from '../support/rental-pms.ts';
import { startTestStack } from '../support/stack.ts';
import { GUESTY_EXAMPLE_GUEST } from '../../infra/local/sandboxes/guesty.ts';

/**
 * Backfill from every rental PMS whose API lists reservations, each against its API sandbox
 * (the vendor's list endpoint, filters and paging): in-house and upcoming stays are created in
 * Minut once; a stay that is over is not.
 */
let stack: LocalStack;
beforeAll(async () => {
  // Minut only: what is tested here is the reading; the targets' path is the webhooks'.
  const configPath = exampleConfigWith((config) => {
    for (const pms of [...RENTAL_PMSS, ...LISTING_HOTEL_PMSS, { connectionId: 'hostaway-demo' }]) {
      for (const property of Object.values(config.connections[pms.connectionId].properties) as { targets: Record<string, unknown> }[]) {
        property.targets = { minut: property.targets.minut };
      }
    }
    // Guesty's reader reads each listed reservation again: paced faster here so 100+ reads take seconds.
    config.connections['guesty-demo'].api.requestsPerSecond = 50;
  });
  stack = await startTestStack({ configPath, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});

/** The hotel PMSs guest-sync can list from so far. */
const LISTING_HOTEL_PMSS = HOTEL_PMSS;
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const booking = (id: number, arrival: string, departure: string): Booking => ({ id, firstName: 'Listed', lastName: String(id), email: `listed.${id}@example.com`, phone: '+46701234567', arrival, departure, adults: 2, children: 0, state: 'booked' });

describe('backfill from each PMS API that lists', () => {
  it.each(RENTAL_PMSS.map((pms, i) => ({ pms, base: 887000 + i * 10 })))('$pms.name', async ({ pms, base }) => {
    pms.publish(stack, booking(base + 1, day(5), day(8))); // upcoming
    pms.publish(stack, booking(base + 2, day(-1), day(2))); // in house
    pms.publish(stack, booking(base + 3, day(-20), day(-15))); // over
    const run = await runCli(stack, ['backfill', pms.connectionId]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/DONE, \d+ page\(s\)/);
    await stack.drain(60_000);
    const names = stack.sandbox.minut.guests(pms.minutHome).map((g) => g.name);
    expect(names).toEqual(expect.arrayContaining([`Listed ${base + 1}`, `Listed ${base + 2}`]));
    expect(names).not.toContain(`Listed ${base + 3}`);
  });

  it('hostaway (the API credentials are an optional part of a Hostaway connection)', async () => {
    const fixture = JSON.parse(readFileSync('examples/hostaway-reservation.created.json', 'utf8')) as { data: Record<string, unknown> };
    const put = (id: number, arrivalDate: string, departureDate: string) =>
      stack.sandbox.hostaway.reservations.put({ ...fixture.data, id, guestName: `Listed ${id}`, guestFirstName: 'Listed', guestLastName: String(id), guestEmail: `listed.${id}@example.com`, arrivalDate, departureDate, updatedOn: '2026-05-02 09:14:27' });
    // 105 upcoming stays: two pages of the afterId cursor; and one that is over.
    for (let i = 0; i < 105; i++) put(889000 + i, day(3 + i), day(5 + i));
    put(889200, day(-20), day(-15));
    const run = await runCli(stack, ['backfill', 'hostaway-demo', '--dry-run']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/DONE \(dry run\), 2 page\(s\), 105 reservation\(s\) listed/);
    expect(run.stdout).toMatch(/minut\s+create 105/);
  });

  it('guesty (the reservations-v3 search, then each reservation read as a webhook is)', async () => {
    const listing = '6421f0b9c8d7e60011223344';
    const guesty = stack.sandbox.guesty;
    const put = (id: string, checkIn: string, checkOut: string, extra: Record<string, unknown> = {}) =>
      guesty.putReservation({ _id: id, listingId: listing, status: 'confirmed', checkInDateLocalized: checkIn, checkOutDateLocalized: checkOut, lastUpdatedAt: '2026-05-02T09:14:27.512Z', guest: { _id: `g-${id}`, firstName: 'Listed', lastName: id, fullName: `Listed ${id}`, email: `${id}@example.com` }, ...extra });
    // 101 stays to come: two pages of the search (100 a page).
    for (let i = 0; i < 101; i++) put(`gy${String(i).padStart(4, '0')}`, day(3 + (i % 40)), day(5 + (i % 40)));
    put('gy-over', day(-20), day(-15));
    put('gy-elsewhere', day(4), day(6), { listingId: 'not-a-configured-listing' });
    const run = await runCli(stack, ['backfill', 'guesty-demo', '--dry-run']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/DONE \(dry run\), 2 page\(s\), 101 reservation\(s\) listed/);
    expect(run.stdout).toMatch(/minut\s+create 101/);
    const searches = guesty.requestLog().filter((e) => e.route === 'GET /v1/reservations-v3/search');
    expect(searches).toHaveLength(2);
    // Neither the stay that is over nor the one at a listing not in the config is read again.
    const reads = guesty.requestLog().filter((e) => e.route === 'GET /v1/reservations/:id').map((e) => e.path);
    expect(reads.some((path) => path.includes('gy-over') || path.includes('gy-elsewhere'))).toBe(false);

    // For real, in a window with one stay whose guest is a separate record (read by its id): created once; a second run changes nothing.
    put('gy-later', day(300), day(302), { guest: undefined, guestId: GUESTY_EXAMPLE_GUEST._id });
    const guestsNamed = () => stack.sandbox.minut.guests('home_demo_city').filter((g) => g.name === GUESTY_EXAMPLE_GUEST.fullName).length;
    const before = guestsNamed();
    for (const attempt of [1, 2]) {
      const real = await runCli(stack, ['backfill', 'guesty-demo', '--from', day(299), '--to', day(301)]);
      expect(real.code, `run ${attempt}: ${real.stdout}${real.stderr}`).toBe(0);
      expect(real.stdout).toMatch(/DONE, 1 page\(s\)/);
      await stack.drain(60_000);
      expect(guestsNamed()).toBe(before + 1);
    }
  });

  it('smily (the client read once for its bookings)', async () => {
    stack.sandbox.smily.putClient(smilyClient(6001, { fullname: 'Listed Smily', firstname: 'Listed', lastname: 'Smily', emails: [{ label: 'default', email: 'listed.smily@example.com' }] }));
    const at = (offset: number) => `${day(offset)}T16:00:00Z`;
    stack.sandbox.smily.putBooking(smilyBooking({ id: 886101, start_at: at(5), end_at: at(8) }, { client: 6001 }));
    stack.sandbox.smily.putBooking(smilyBooking({ id: 886102, start_at: at(-1), end_at: at(2) }, { client: 6001 }));
    stack.sandbox.smily.putBooking(smilyBooking({ id: 886103, start_at: at(-20), end_at: at(-15) }, { client: 6001 }));
    const run = await runCli(stack, ['backfill', 'smily-demo', '--dry-run']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/DONE \(dry run\)/);
    expect(run.stdout).toContain('would create minut      smily-demo/886101');
    expect(run.stdout).toContain('would create minut      smily-demo/886102');
    expect(run.stdout).not.toContain('886103');
    const clientReads = stack.sandbox.smily.requestLog().filter((e) => e.route === 'GET /api/v3/clients/:id').length;
    expect(clientReads).toBe(1);
  });

  const stay = (id: number, arrival: string, departure: string): Stay => ({ id, firstName: 'Listed', lastName: String(id), email: `listed.${id}@example.com`, phone: '+46701234567', arrival, departure, adults: 2, children: 0, unit: 0, state: 'booked' });
  it.each(LISTING_HOTEL_PMSS.map((pms, i) => ({ pms, base: 888000 + i * 10 })))('$pms.name', async ({ pms, base }) => {
    pms.publish(stack, stay(base + 1, day(5), day(8)));
    pms.publish(stack, { ...stay(base + 2, day(-1), day(2)), state: 'in_house' });
    pms.publish(stack, { ...stay(base + 3, day(-20), day(-15)), state: 'checked_out' });
    const run = await runCli(stack, ['backfill', pms.connectionId]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await stack.drain(60_000);
    const names = stack.sandbox.minut.guests(pms.minutHome).map((g) => g.name);
    expect(names).toEqual(expect.arrayContaining([`Listed ${base + 1}`, `Listed ${base + 2}`]));
    expect(names).not.toContain(`Listed ${base + 3}`);
  });
});
