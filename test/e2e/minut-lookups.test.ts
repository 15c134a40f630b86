import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../support/hostaway.ts';
import { RENTAL_PMSS, type Booking } from '../support/rental-pms.ts';
import { resetTargetSandboxes, sendHostaway, startTestStack } from '../support/stack.ts';

/**
 * When Minut's guests are looked through before a create, and what a match may be used for:
 * only our own create whose answer was lost is adopted, and only a native integration's
 * read-only guest is left alone. A guest of the same name and check-in that is not provably
 * ours (another reservation, another client) is never adopted nor changed.
 */

// Lodgify and Smoobu routed to the same Minut home: one person booked through both.
const configPath = join(mkdtempSync(join(tmpdir(), 'guest-sync-minut-')), 'config.json');
const config = JSON.parse(readFileSync('config/guest-sync.example.json', 'utf8')) as { connections: Record<string, { properties: Record<string, { targets: Record<string, unknown> }> }> };
config.connections['smoobu-demo']!.properties['505200']!.targets = { minut: { homeId: 'home_demo_lodgify' } };
config.connections['lodgify-demo']!.properties['331207']!.targets = { minut: { homeId: 'home_demo_lodgify' } };
writeFileSync(configPath, JSON.stringify(config));

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ configPath });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => resetTargetSandboxes(stack));

const LIST = 'GET /homes/:home_id/guests';
const CREATE = 'POST /homes/:home_id/guests';
const [lodgify, , smoobu] = RENTAL_PMSS;

function booking(id: number, fields: Partial<Booking> = {}): Booking {
  return { id, firstName: 'Sam', lastName: 'Twice', email: `sam.${id}@example.com`, phone: '+46701234567', arrival: '2026-09-10', departure: '2026-09-12', adults: 1, children: 0, state: 'booked', ...fields };
}

describe('Minut look-ups', () => {
  it('a PMS Minut does not integrate itself: a first create makes no look-up', async () => {
    const b = booking(950_001);
    lodgify!.publish(stack, b);
    expect((await lodgify!.send(stack, JSON.stringify(lodgify!.webhook(b, 'created', Date.now())))).status).toBe(202);
    await stack.drain();
    const counts = stack.sandbox.minut.counters().byRoute;
    expect(counts[CREATE]).toBe(1);
    expect(counts[LIST] ?? 0).toBe(0);
  });

  it('one person booked through two connections into one home gets a guest per reservation; cancelling one leaves the other', async () => {
    const viaLodgify = booking(950_002);
    const viaSmoobu = booking(950_002, { email: 'sam.other@example.com' }); // same name, same check-in
    lodgify!.publish(stack, viaLodgify);
    smoobu!.publish(stack, viaSmoobu);
    await lodgify!.send(stack, JSON.stringify(lodgify!.webhook(viaLodgify, 'created', Date.now())));
    await stack.drain();
    await smoobu!.send(stack, JSON.stringify(smoobu!.webhook(viaSmoobu, 'created', Date.now())));
    await stack.drain();
    const guests = () => stack.sandbox.minut.guests('home_demo_lodgify').filter((g) => g.name === 'Sam Twice');
    expect(guests()).toHaveLength(2);

    lodgify!.publish(stack, { ...viaLodgify, state: 'cancelled' });
    await lodgify!.send(stack, JSON.stringify(lodgify!.webhook({ ...viaLodgify, state: 'cancelled' }, 'cancelled', Date.now())));
    await stack.drain();
    expect(guests()).toEqual([expect.objectContaining({ email: 'sam.other@example.com' })]);
  });

  it('a PMS Minut integrates itself: the home is looked through, a read-write guest of the same stay is not ours and is left untouched', async () => {
    const stranger = stack.sandbox.minut.seedGuest(SEASIDE_HOME, { name: 'Maria Lindqvist', checkin_time: '2026-07-10T13:00:00Z', checkout_time: '2026-07-14T09:00:00Z', email: 'someone.else@example.com', readonly: false });
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 950_003 }));
    await stack.drain();
    const guests = stack.sandbox.minut.guests(SEASIDE_HOME);
    expect(guests).toHaveLength(2);
    expect(guests).toContainEqual(stranger); // unchanged
    expect(stack.sandbox.minut.counters().byRoute[LIST]).toBeGreaterThanOrEqual(1);
  });
});
