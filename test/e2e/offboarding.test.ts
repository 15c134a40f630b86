import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../functions/core/config.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { runCli } from '../support/cli.ts';
import { hostawayDelivery, SEASIDE_KASIFY_PROPERTY } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/**
 * Offboarding: a `config push` that removes a route to a target never orphans the guests
 * guest-sync created through it. Default rule `leave`: they stay, listed; rule `remove`: removed.
 */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ env: { GUEST_SYNC_CONFIG_CACHE_SECONDS: '0' } });
});
afterAll(async () => {
  await stack?.stop();
});

const key = { connectionId: 'hostaway-demo', reservationId: '795001' };
const dir = mkdtempSync(join(tmpdir(), 'guest-sync-offboarding-'));
async function push(change: (config: Config) => void): Promise<string> {
  const config = structuredClone(stack.config);
  change(config);
  const file = join(dir, `config-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(config));
  const pushed = await runCli(stack, ['config', 'push', file]);
  expect(pushed.code, pushed.stdout + pushed.stderr).toBe(0);
  stack.config = config;
  return pushed.stdout;
}
const kasifyBooking = () => stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).find((b) => b.channel_id === 'hostaway-demo:795001');

describe('offboarding', () => {
  it('leaves and lists the guests of a removed route by default; removes them with "offboarding": "remove"', async () => {
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 795001, guestName: 'Off Boarded', guestEmail: 'off.boarded@example.com', reservationUnit: [{ listingUnitId: 8801 }] }));
    await stack.drain();
    expect(kasifyBooking()).toMatchObject({ status: 'confirmed' });

    // The Kasify route of the property is removed: its guest is left there, and listed.
    const left = await push((config) => {
      delete config.connections['hostaway-demo']!.properties['219407']!.targets.kasify;
    });
    expect(left).toContain('offboarding: leave — 1 guest(s) created through the removed route(s) (hostaway-demo/219407 -> kasify)');
    expect(left).toMatch(/kasify\s+hostaway-demo\/795001 {3}propertyId=\S+ bookingId=\S+/);
    expect(kasifyBooking()).toMatchObject({ status: 'confirmed' });
    expect(await storeFor(stack).getTargetState(key, 'kasify')).toMatchObject({ status: 'offboarded' });
    const listed = await runCli(stack, ['status', '--offboarded']);
    expect(listed.stdout).toContain('1 guest(s) left at their target after their route was removed');
    expect(listed.stdout).toContain('hostaway-demo/795001');

    // Later changes no longer reach Kasify; the other targets still follow.
    const kasifyWrites = () => stack.sandbox.kasify.requestLog().filter((e) => e.method !== 'GET').length;
    const before = kasifyWrites();
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { id: 795001, guestName: 'Off Boarded', guestEmail: 'off.boarded@example.com', reservationUnit: [{ listingUnitId: 8801 }], departureDate: '2026-07-16' }));
    await stack.drain();
    expect(kasifyWrites()).toBe(before);
    expect(await storeFor(stack).getTargetState(key, 'hostelmate')).toMatchObject({ status: 'synced' });

    // With the rule "remove", dropping the HostelMate route removes the guest there.
    const removed = await push((config) => {
      config.offboarding = 'remove';
      delete config.connections['hostaway-demo']!.properties['219407']!.targets.hostelmate;
    });
    expect(removed).toContain('offboarding: remove — 1 guest(s)');
    await stack.drain();
    const bookingId = (await storeFor(stack).getTargetState(key, 'hostelmate'))?.targetIds.bookingId;
    expect(stack.sandbox.hostelmate.bookings().find((b) => b.id === bookingId)).toMatchObject({ status: 'cancelled' });
    expect(await storeFor(stack).getTargetState(key, 'hostelmate')).toMatchObject({ status: 'absent' });
    // The guest left at Kasify earlier is still listed; nothing else is.
    expect((await runCli(stack, ['status', '--offboarded'])).stdout).toMatch(/1 guest\(s\)[\s\S]*kasify\s+hostaway-demo\/795001/);
  });
});
