import { describe, expect, it } from 'vitest';
import { emptyGuest, type Reservation } from '../../functions/core/reservation.ts';
import type { TargetName } from '../../functions/core/config.ts';
import type { TargetState, TraceEntry } from '../../functions/core/store.ts';
import type { TargetOutcome } from '../../functions/sync/sync.ts';
import { CARRYING_STATE_BYTES, MessageStep, changedFields, withCarriedStep } from '../../functions/sync/trace.ts';
import { aReservation } from '../support/reservation.ts';

const base = aReservation({ guest: { ...emptyGuest, fullName: 'Ada Lovelace', email: 'ada@example.com' } });

describe('changedFields: what a trace step says changed (names only)', () => {
  const cases: [string, Partial<Reservation>, string[]][] = [
    ['nothing but the version', { sourceVersion: 2 }, []],
    ['the check-in date', { stay: { ...base.stay, checkInDate: '2026-10-24' } }, ['stay.checkInDate']],
    ['the email and the phone', { guest: { ...base.guest, email: 'new@example.com', phone: '+46701234567' } }, ['guest.email', 'guest.phone']],
    ['a cancellation', { status: 'cancelled', sourceStatus: 'cancelled' }, ['sourceStatus', 'status']],
    ['the unit and the party size', { unitId: 'u2', partySize: 3 }, ['partySize', 'unitId']],
    ['a dropped optional field', { dropped: [{ field: 'guest.phone', reason: 'unparseable' }] }, ['dropped']],
  ];
  it.each(cases)('%s', (_, patch, expected) => {
    expect(changedFields(base, { ...base, ...patch })).toEqual(expected);
  });

  it('never returns a value, only field names', () => {
    const changed = changedFields(base, { ...base, guest: { ...base.guest, fullName: 'Grace Hopper' } });
    expect(changed).toEqual(['guest.fullName']);
    expect(JSON.stringify(changed)).not.toContain('Grace');
  });
});

describe('MessageStep: the step rides on the write of the target that decides last', () => {
  const header = { via: 'delivery' as const, deliveryId: 'd-1', snapshot: 'newer' as const };
  const clock = () => 1_000;
  const done = (target: TargetName, action: string): TargetOutcome => ({ target, action });

  it('one target: its outcome write carries the whole step, and nothing is left to write', () => {
    const step = new MessageStep(header, clock);
    step.expect(['minut']);
    const entry = step.toCarry('minut', done('minut', 'updated'));
    expect(entry).toEqual({ at: 1_000, ...header, targets: [{ target: 'minut', action: 'updated' }] });
    step.carriedBy(entry!);
    step.finished(done('minut', 'updated'));
    expect(step.pending()).toBeUndefined();
  });

  it('two targets: only the one deciding last carries it, with both actions in target order', () => {
    const step = new MessageStep(header, clock);
    step.expect(['minut', 'kasify']);
    expect(step.toCarry('kasify', done('kasify', 'created'))).toBeUndefined();
    const entry = step.toCarry('minut', done('minut', 'created'));
    expect(entry?.targets).toEqual([done('minut', 'created'), done('kasify', 'created')]);
    step.carriedBy(entry!);
    step.finished(done('kasify', 'created'));
    step.finished(done('minut', 'created'));
    expect(step.pending()).toBeUndefined();
  });

  it('the last to decide writes nothing: the step is written as an item of its own', () => {
    const step = new MessageStep(header, clock);
    step.expect(['minut', 'recepai']);
    expect(step.toCarry('minut', done('minut', 'updated'))).toBeUndefined();
    step.finished(done('minut', 'updated'));
    step.finished(done('recepai', 'unchanged'));
    expect(step.pending()).toEqual({ at: 1_000, ...header, targets: [done('minut', 'updated'), done('recepai', 'unchanged')] });
  });

  it('the carrying write is refused: nothing was carried, the step is written with the final outcome', () => {
    const step = new MessageStep(header, clock);
    step.expect(['minut']);
    expect(step.toCarry('minut', done('minut', 'updated'))).toBeDefined();
    step.finished({ target: 'minut', action: 'failed', error: { code: 'stale_state', permanent: false } });
    expect(step.pending()?.targets).toEqual([{ target: 'minut', action: 'failed', code: 'stale_state', permanent: false }]);
  });

  it('an outcome that changed after the step was carried is written again, with the carried time', () => {
    let now = 1_000;
    const step = new MessageStep(header, () => now);
    step.expect(['minut', 'kasify']);
    step.toCarry('kasify', done('kasify', 'updated'));
    const entry = step.toCarry('minut', done('minut', 'updated'))!;
    step.carriedBy(entry);
    now = 2_000;
    step.finished(done('minut', 'updated'));
    step.finished({ target: 'kasify', action: 'failed', error: { code: 'stale_state', permanent: false } });
    expect(step.pending()).toMatchObject({ at: 1_000, targets: [done('minut', 'updated'), { target: 'kasify', action: 'failed', code: 'stale_state' }] });
  });

  it('a step not worth recording (a resync that found every target in step) is neither carried nor written', () => {
    const step = new MessageStep({ via: 'resync', reason: 'sweep' }, clock, (actions) => actions.some((a) => a.action !== 'unchanged'));
    step.expect(['minut']);
    expect(step.toCarry('minut', done('minut', 'unchanged'))).toBeUndefined();
    step.finished(done('minut', 'unchanged'));
    expect(step.pending()).toBeUndefined();
  });
});

describe('withCarriedStep: a state carries steps while its write stays one unit', () => {
  const state = freshState();
  const entry = (at: number): TraceEntry => ({ at, via: 'delivery', deliveryId: `delivery-${at}`, targets: [{ target: 'minut', action: 'updated' }] });
  // Sized as JSON, close to what DynamoDB bills.
  const bytesOf = (s: TargetState) => Buffer.byteLength(JSON.stringify(s));
  const one = bytesOf({ ...state, trace: [entry(1)] }) - bytesOf({ ...state, trace: [] });

  const cases: [string, number, { kept: number; moved: number } | undefined][] = [
    ['room for all: the step is added', 1, { kept: 2, moved: 0 }],
    ['full: the earlier steps move to an item, the new one stays', Math.floor((CARRYING_STATE_BYTES - bytesOf(state)) / one), { kept: 1, moved: Math.floor((CARRYING_STATE_BYTES - bytesOf(state)) / one) }],
  ];
  it.each(cases)('%s', (_, earlier, expected) => {
    const withEarlier = { ...state, trace: Array.from({ length: earlier }, (_, i) => entry(i + 1)) };
    const result = withCarriedStep(withEarlier, entry(100), bytesOf);
    expect(result && { kept: result.trace.length, moved: result.moved.length }).toEqual(expected);
    if (result) expect(bytesOf({ ...withEarlier, trace: result.trace })).toBeLessThanOrEqual(CARRYING_STATE_BYTES);
    expect(result?.trace.at(-1)).toEqual(entry(100));
  });

  it('a state too large for even one step carries none', () => {
    const large = { ...state, warnings: ['x'.repeat(CARRYING_STATE_BYTES)] };
    expect(withCarriedStep(large, entry(1), bytesOf)).toBeUndefined();
  });
});

function freshState(): TargetState {
  return { target: 'minut', status: 'synced', targetIds: { homeId: 'home_demo_seaside', guestId: 'g-1' }, appliedFingerprint: 'f', intent: null, lastError: null, warnings: [], dueAt: null, applied: null, ttl: 2_000_000_000, updatedAt: 1, version: 3 };
}
