import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetName } from '../../functions/core/config.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { runCli } from '../support/cli.ts';
import { exampleConfigWith } from '../support/config.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/**
 * Shadow mode: a property whose config says `"mode": "shadow"` runs through everything but the
 * target calls, which are recorded. Switched on, it makes exactly the calls it had planned.
 */
let stack: LocalStack;
beforeAll(async () => {
  const configPath = exampleConfigWith((config) => {
    config.connections['hostaway-demo'].properties['219407'].mode = 'shadow';
  });
  // No config cache: the pushed config (the switch to live) is read on the next message.
  stack = await startTestStack({ configPath, env: { GUEST_SYNC_CONFIG_CACHE_SECONDS: '0' } });
});
afterAll(async () => {
  await stack?.stop();
});

const TARGETS: TargetName[] = ['minut', 'recepai', 'kasify', 'hostelmate'];
const requestsAt = () => ({
  minut: stack.sandbox.minut.requestLog().length,
  recepai: stack.sandbox.recepai.requestLog().length,
  kasify: stack.sandbox.kasify.requestLog().length,
  hostelmate: stack.sandbox.hostelmate.requestLog().length,
});
const writesAt = (target: TargetName) => {
  const log = { minut: stack.sandbox.minut, recepai: stack.sandbox.recepai, kasify: stack.sandbox.kasify, hostelmate: stack.sandbox.hostelmate }[target].requestLog();
  return log.filter((e) => e.method !== 'GET' && !e.route.includes('token')).map((e) => e.route);
};

describe('shadow mode', () => {
  it('makes no target call until switched on, records the planned ones, then makes exactly those', async () => {
    const before = requestsAt();
    // Two stays: one booked, one booked and then cancelled (nothing to create for it).
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 792001, guestName: 'Shadow Stay', guestFirstName: 'Shadow', guestLastName: 'Stay' }));
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 792002, guestName: 'Shadow Gone', guestFirstName: 'Shadow', guestLastName: 'Gone' }));
    await stack.drain();
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { id: 792002, guestName: 'Shadow Gone', status: 'cancelled' }));
    await stack.drain();
    expect(requestsAt()).toEqual(before);

    // What would have been sent is visible per target, in status and in the trace.
    const store = storeFor(stack);
    const planned = async (id: number) => Object.fromEntries((await store.listTargetStates({ connectionId: 'hostaway-demo', reservationId: String(id) })).map((s) => [s.target, s.status === 'shadow' ? s.shadow?.action : s.status]));
    // RecepAI holds only in-house guests: a July stay is not in house today, so no call either way.
    expect(await planned(792001)).toEqual({ minut: 'create', recepai: 'none', kasify: 'create', hostelmate: 'create' });
    expect(await planned(792002)).toEqual({ minut: 'none', recepai: 'none', kasify: 'none', hostelmate: 'none' });
    const status = await runCli(stack, ['status', 'hostaway-demo', '792001']);
    expect(status.stdout).toContain('shadow mode: would create');
    expect(status.stdout).toContain('nothing was sent');
    const trace = await runCli(stack, ['trace', 'hostaway-demo', '792001']);
    expect(trace.stdout).toMatch(/minut\s+shadow_create/);

    // Switched on (config push, no redeploy), then a resync of the property.
    const config = structuredClone(stack.config);
    config.connections['hostaway-demo']!.properties['219407']!.mode = 'live';
    const file = join(mkdtempSync(join(tmpdir(), 'guest-sync-shadow-')), 'live.json');
    writeFileSync(file, JSON.stringify(config));
    expect((await runCli(stack, ['config', 'push', file])).code).toBe(0);
    expect((await runCli(stack, ['resync', 'hostaway-demo', '--property', '219407'])).code).toBe(0);
    await stack.drain();

    // Exactly the planned calls: one create per target that planned one, nothing for the cancelled stay.
    expect(stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Shadow'))).toEqual([expect.objectContaining({ name: 'Shadow Stay' })]);
    for (const target of TARGETS) {
      const creates = writesAt(target);
      expect(creates, target).toHaveLength(target === 'recepai' ? 0 : 1);
    }
    expect(await planned(792001)).toEqual({ minut: 'synced', recepai: 'absent', kasify: 'synced', hostelmate: 'synced' });
  });
});
