import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { TestClock } from '../support/clock.ts';
import { hostawayDelivery, SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY, SEASIDE_SLUG } from '../support/hostaway.ts';
import { sendHostaway, shuffled, resetTargetSandboxes, startTestStack, storeFor } from '../support/stack.ts';
import { hostawayRecord, syncInstance } from '../support/sync.ts';
import { createTargets } from '../../functions/targets/registry.ts';
import { TargetStateWriter } from '../../functions/sync/state-writer.ts';
import { LocalSecretStore } from '../../functions/core/secrets.ts';

/**
 * The real path (ingest → queue → sync → sandboxes) for a property routed to all four
 * targets: Minut, RecepAI, Kasify and HostelMate, each checked in its sandbox after each step.
 */
const clock = new TestClock('2026-07-11T10:00:00Z'); // during the fixture's 10–14 July stay
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ now: clock.now, sweepIntervalMs: null });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => resetTargetSandboxes(stack));

const SLUG = SEASIDE_SLUG;
const KASIFY_PROPERTY = SEASIDE_KASIFY_PROPERTY;
const DORM = '3d6f1a2b-8c4e-4f5a-9b7c-0e1d2f3a4b5c';
const key = (id: number) => ({ connectionId: 'hostaway-demo', reservationId: String(id) });
/** The guest of reservation `id` in these tests, as the PMS sends it; `ours` finds it at each target. */
const allFour = (id: number) => ({ guestName: `All Four ${id}`, guestFirstName: 'All Four', guestLastName: String(id), guestEmail: `all.four.${id}@example.com` });
const ours = (id: number) => ({
  minut: stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name === `All Four ${id}`),
  recepai: stack.sandbox.recepai.guests(SLUG).filter((g) => g.pmsGuestId === `hostaway-demo:${id}`),
  kasify: stack.sandbox.kasify.allBookings(KASIFY_PROPERTY).filter((b) => b.channel_id === `hostaway-demo:${id}`),
  hostelmate: stack.sandbox.hostelmate.bookings().filter((b) => b.guest && stack.sandbox.hostelmate.guests().some((g) => g.guestId === b.guest.guestId && g.email === `all.four.${id}@example.com`)),
});
/** Reservation `id` created and synced to every target; its delivery fields, for the changes a test sends next. */
async function createdAtAllFour(id: number) {
  const base = { id, ...allFour(id) };
  await sendHostaway(stack, hostawayDelivery('reservation.created', base));
  await stack.drain();
  return base;
}

describe('one reservation, four targets', () => {
  it('is created, updated (dates, room, phone) and cancelled in every target', async () => {
    const base = { id: 800001, guestName: 'All Four 800001', guestFirstName: 'All Four', guestLastName: '800001', guestEmail: 'all.four.800001@example.com', reservationUnit: [{ listingUnitId: 8801 }] };
    expect((await sendHostaway(stack, hostawayDelivery('reservation.created', base))).status).toBe(202);
    await stack.drain();

    let now = ours(800001);
    expect(now.minut).toHaveLength(1);
    expect(now.recepai).toEqual([
      expect.objectContaining({ firstName: 'All Four', lastName: '800001', roomNumber: '301', checkInDate: '2026-07-10', checkOutDate: '2026-07-14', phone: '+46701234567', email: 'all.four.800001@example.com', nationality: 'SE', language: 'sv', adults: 2, children: 1, checkedOutAt: null }),
    ]);
    expect(now.kasify).toEqual([
      expect.objectContaining({ from: '2026-07-10', to: '2026-07-14', status: 'confirmed', channel: 'guest-sync', guest_first_name: 'All Four', guest_last_name: '800001', guest_phone: '+46701234567', adults_count: 2, children_count: 1, checkin_time: '15:00', checkout_time: '11:00' }),
    ]);
    expect(now.hostelmate).toHaveLength(1);
    expect(now.hostelmate[0]).toMatchObject({ status: 'confirmed', room: DORM, dates: [{ date: '2026-07-10', amount: 0 }, { date: '2026-07-11', amount: 0 }, { date: '2026-07-12', amount: 0 }, { date: '2026-07-13', amount: 0 }] });
    const hmGuest = stack.sandbox.hostelmate.guests().find((g) => g.email === 'all.four.800001@example.com')!;
    expect(hmGuest).toMatchObject({ first_name: 'All Four', last_name: '800001', phone: '+46701234567', country_code: 'SE' });
    for (const target of ['minut', 'recepai', 'kasify', 'hostelmate'] as const) {
      expect(await storeFor(stack).getTargetState(key(800001), target)).toMatchObject({ status: 'synced', lastError: null });
    }

    // Later departure, another unit (RecepAI room 305: a move), a new phone number given locally.
    const changed = { ...base, status: 'modified', departureDate: '2026-07-16', reservationUnit: [{ listingUnitId: 8802 }], phone: '070-765 43 21' };
    await sendHostaway(stack, hostawayDelivery('reservation.updated', changed));
    await stack.drain();
    now = ours(800001);
    expect(now.minut).toEqual([expect.objectContaining({ checkout_time: '2026-07-16T09:00:00.000Z', phone_number: '+46707654321' })]);
    expect(now.recepai).toEqual([expect.objectContaining({ roomNumber: '305', checkOutDate: '2026-07-16', phone: '+46707654321', checkedOutAt: null })]);
    const update = stack.sandbox.recepai.requestLog().filter((e) => e.route === 'POST /:slug/guests/update');
    expect(update).toHaveLength(1);
    expect(now.kasify).toEqual([expect.objectContaining({ to: '2026-07-16', guest_phone: '+46707654321', status: 'confirmed' })]);
    expect(now.hostelmate).toHaveLength(1);
    expect(now.hostelmate[0]!.dates.map((d) => d.date)).toEqual(['2026-07-10', '2026-07-11', '2026-07-12', '2026-07-13', '2026-07-14', '2026-07-15']);
    expect(stack.sandbox.hostelmate.guests().find((g) => g.guestId === hmGuest.guestId)).toMatchObject({ phone: '+46707654321' });

    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...changed, status: 'cancelled' }));
    await stack.drain();
    now = ours(800001);
    expect(now.minut).toEqual([]);
    expect(now.recepai).toEqual([expect.objectContaining({ checkedOutAt: expect.any(String) })]);
    expect(stack.sandbox.recepai.activeGuests(SLUG)).toEqual([]);
    expect(now.kasify).toEqual([expect.objectContaining({ status: 'cancelled' })]);
    expect(now.hostelmate).toEqual([expect.objectContaining({ status: 'cancelled' })]);
    for (const target of ['minut', 'recepai', 'kasify', 'hostelmate'] as const) {
      expect(await storeFor(stack).getTargetState(key(800001), target)).toMatchObject({ status: 'absent', lastError: null });
    }
  });

  it('makes no duplicate anywhere when every delivery comes three times in shuffled order', async () => {
    const id = 800002;
    const base = { id, ...allFour(id) };
    const created = hostawayDelivery('reservation.created', base);
    const updated = hostawayDelivery('reservation.updated', { ...base, status: 'modified', departureDate: '2026-07-15' });
    const copies = (d: unknown) => [JSON.stringify(d), JSON.stringify(d), JSON.stringify(d, null, 1)];
    for (const body of shuffled([...copies(created), ...copies(updated)], 5)) expect((await sendHostaway(stack, body)).status).toBe(202);
    await stack.drain();
    const now = ours(id);
    expect(now.minut).toHaveLength(1);
    expect(now.recepai).toEqual([expect.objectContaining({ checkOutDate: '2026-07-15' })]);
    expect(now.kasify).toEqual([expect.objectContaining({ to: '2026-07-15' })]);
    expect(now.hostelmate).toHaveLength(1);
    expect(now.hostelmate[0]!.dates).toHaveLength(5);
    expect(stack.sandbox.kasify.requestLog().filter((e) => e.route === 'POST /properties/:id/bookings')).toHaveLength(1);
    expect(stack.sandbox.hostelmate.requestLog().filter((e) => e.route === 'POST /bookings' && e.status === 201)).toHaveLength(1);
  });

  it('survives a crash between each target call and the state write: the retry finds what was done', async () => {
    const id = 800003;
    const base = await createdAtAllFour(id);
    // As if every call had gone through but no state was written after it. Where a create does
    // not deduplicate (Minut, Kasify), the intent written before the POST is what a crash leaves
    // (its lease run out); the others keep nothing.
    const store = storeFor(stack);
    const intentOf = async (target: 'minut' | 'kasify') => {
      const state = (await store.getTargetState(key(id), target))!;
      return { fingerprint: state.appliedFingerprint!, startedAt: 0, inFlightUntil: 0, desired: targets[target]!.desired(snapshot, property)! };
    };
    const snapshot = (await store.getSnapshot(key(id)))!.reservation;
    const property = stack.config.connections['hostaway-demo']!.properties[snapshot.propertyId]!;
    const targets = createTargets({ config: stack.config, secrets: { get: async () => ({}) }, store });
    const intents = { minut: await intentOf('minut'), kasify: await intentOf('kasify') };
    for (const target of ['minut', 'recepai', 'kasify', 'hostelmate'] as const) {
      const state = (await store.getTargetState(key(id), target))!;
      const intent = target === 'minut' || target === 'kasify' ? intents[target] : null;
      await store.putTargetState(key(id), { ...state, status: 'absent', targetIds: {}, appliedFingerprint: null, applied: null, intent, version: state.version + 1 });
    }
    // The PMS sends a change; every target must update the one record it already has.
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'modified', departureDate: '2026-07-15' }));
    await stack.drain();
    const now = ours(id);
    expect(now.minut).toEqual([expect.objectContaining({ checkout_time: '2026-07-15T09:00:00.000Z' })]);
    expect(now.recepai).toEqual([expect.objectContaining({ checkOutDate: '2026-07-15', checkedOutAt: null })]);
    expect(now.kasify).toEqual([expect.objectContaining({ to: '2026-07-15' })]);
    expect(now.hostelmate).toHaveLength(1);
    expect(now.hostelmate[0]!.dates).toHaveLength(5);
    for (const target of ['minut', 'recepai', 'kasify', 'hostelmate'] as const) {
      expect(await store.getTargetState(key(id), target)).toMatchObject({ status: 'synced' });
    }
    // Found again, never created twice: Kasify by channel_id, HostelMate by booking.id, RecepAI by pmsGuestId.
    expect(stack.sandbox.kasify.requestLog().filter((e) => e.route === 'POST /properties/:id/bookings')).toHaveLength(1);
    expect(stack.sandbox.hostelmate.requestLog().filter((e) => e.route === 'POST /bookings').map((e) => e.status)).toEqual([201, 409]);
    expect(stack.sandbox.recepai.requestLog().filter((e) => e.route === 'POST /:slug/guests/checkin').map((e) => e.status)).toEqual([200, 409]);
    expect(stack.sandbox.recepai.requestLog().filter((e) => e.route === 'GET /:slug/guests')).toHaveLength(1);
  });

  it('a HostelMate booking made by a lost attempt for an older version is brought up to date, its guest too', async () => {
    const id = 800006;
    const base = await createdAtAllFour(id);
    // As if the create's answer and its state were lost (found by the chaos suite): the next
    // version, with another last name and later departure, finds the booking already there.
    const store = storeFor(stack);
    const state = (await store.getTargetState(key(id), 'hostelmate'))!;
    await store.putTargetState(key(id), { ...state, status: 'absent', targetIds: {}, appliedFingerprint: null, applied: null, intent: null, version: state.version + 1 });
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'modified', guestName: `All Four Renamed${id}`, guestLastName: `Renamed${id}`, departureDate: '2026-07-15' }));
    await stack.drain();
    const bookings = stack.sandbox.hostelmate.bookings().filter((b) => stack.sandbox.hostelmate.guests().some((g) => g.guestId === b.guest.guestId && g.email === base.guestEmail));
    expect(bookings).toHaveLength(1);
    expect(bookings[0]!.dates).toHaveLength(5);
    expect(stack.sandbox.hostelmate.guests().find((g) => g.email === base.guestEmail)).toMatchObject({ last_name: `Renamed${id}` });
    expect(await store.getTargetState(key(id), 'hostelmate')).toMatchObject({ status: 'synced', lastError: null });
  });

  it('a HostelMate booking or RecepAI check-in sent by an attempt that died before recording it is undone with the reservation', async () => {
    const id = 800007;
    const base = { id, ...allFour(id) };
    // Refused on the first delivery: Minut and Kasify sync, HostelMate and RecepAI hold nothing yet.
    stack.sandbox.hostelmate.failNext({ status: 400, count: 1, method: 'POST', pathIncludes: '/bookings' });
    stack.sandbox.recepai.failNext({ status: 400, count: 1, method: 'POST', pathIncludes: '/guests/checkin' });
    await sendHostaway(stack, hostawayDelivery('reservation.created', base));
    await stack.drain();
    const store = storeFor(stack);
    const snapshot = (await store.getSnapshot(key(id)))!.reservation;
    const property = stack.config.connections['hostaway-demo']!.properties[snapshot.propertyId]!;
    const targets = createTargets({ config: stack.config, secrets: new LocalSecretStore({}, ['config/secrets.example.json']), store, now: clock.now });
    for (const name of ['hostelmate', 'recepai'] as const) {
      const before = { ...(await store.getTargetState(key(id), name))!, status: 'absent' as const, targetIds: {}, appliedFingerprint: null, applied: null, intent: null, lastError: null, failures: 0 };
      await store.putTargetState(key(id), { ...before, version: before.version + 1 });
      // An attempt as sync makes it, whose process dies once the target has answered: nothing after the call is saved.
      const writer = new TargetStateWriter(store, key(id), (await store.getTargetState(key(id), name))!, clock.now);
      const target = targets[name]!;
      const desired = target.desired(snapshot, property)!;
      await target.apply({ key: key(id), reservation: snapshot, property, desired, fingerprint: 'crashed-attempt', state: writer.state, save: writer.save } as Parameters<typeof target.apply>[0]);
      expect((await store.getTargetState(key(id), name))!.targetIds).toEqual({});
    }
    expect(ours(id).hostelmate.map((b) => b.status)).toEqual(['confirmed']);
    expect(ours(id).recepai.map((g) => g.checkedOutAt)).toEqual([null]);
    // The guest cancels: what those attempts made is undone too.
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'cancelled' }));
    await stack.drain();
    expect(ours(id).hostelmate.map((b) => b.status)).toEqual(['cancelled']);
    expect(ours(id).recepai.map((g) => g.checkedOutAt)).toEqual([expect.any(String)]);
    for (const name of ['hostelmate', 'recepai'] as const) expect(await store.getTargetState(key(id), name)).toMatchObject({ status: 'absent', intent: null });
  });

  it('carries on from states the previous release wrote: every field spelled out, HostelMate keeping the whole booking', async () => {
    const id = 800010;
    const base = await createdAtAllFour(id);
    const store = storeFor(stack);
    const booking = () => ours(id).hostelmate[0]!;
    // Each state as the previous release stored it: no field left out, and HostelMate's `applied`
    // the whole desired record (the booking id, one entry a night, the warnings).
    const previous = new Map<string, Record<string, unknown>>();
    for (const target of ['minut', 'recepai', 'kasify', 'hostelmate'] as const) {
      const { trace: _carried, ...state } = (await store.getTargetState(key(id), target))!;
      const full = { dueAt: null, failures: 0, behindSince: null, shadow: null, handoff: null, ...state };
      if (target === 'hostelmate') {
        const kept = state.applied as { room: string; guest: unknown };
        full.applied = { bookingId: state.targetIds.bookingId, room: kept.room, dates: booking().dates.map(({ date, amount }) => ({ date, amount })), guest: kept.guest, warnings: [] };
      }
      previous.set(target, full);
      await stack.dynamodb.send(
        new PutItemCommand({
          TableName: stack.tableName,
          Item: { pk: { S: `RES#hostaway-demo#${id}` }, sk: { S: `TARGET#${target}` }, schemaVersion: { N: '2' }, ttl: { N: String(state.ttl) }, version: { N: String(state.version) }, data: { S: JSON.stringify(full) } },
        }),
      );
    }
    for (const [target, full] of previous) {
      expect(await store.getTargetState(key(id), target as 'minut')).toEqual({ ...full, trace: undefined });
    }

    // A new phone only: HostelMate's nights are the same as those it kept, so only the guest is patched.
    const log = () => stack.sandbox.hostelmate.requestLog().map((e) => e.route);
    const before = log().length;
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'modified', phone: '070-765 43 21' }));
    await stack.drain();
    expect(log().slice(before).filter((route) => route !== 'GET /guests')).toEqual(['PATCH /guests/:id']);
    // A later departure: the nights differ, so the booking gets them.
    await sendHostaway(stack, hostawayDelivery('reservation.updated', { ...base, status: 'modified', phone: '070-765 43 21', departureDate: '2026-07-16' }));
    await stack.drain();
    expect(booking().dates.map((d) => d.date)).toEqual(['2026-07-10', '2026-07-11', '2026-07-12', '2026-07-13', '2026-07-14', '2026-07-15']);
    expect(stack.sandbox.hostelmate.guests().find((g) => g.email === base.guestEmail)).toMatchObject({ phone: '+46707654321' });
    for (const target of ['minut', 'recepai', 'kasify', 'hostelmate'] as const) {
      expect(await store.getTargetState(key(id), target)).toMatchObject({ status: 'synced', lastError: null });
    }
  });

  it('retries a write whose response was lost with the same Idempotency-Key, and gets the first answer back', async () => {
    const id = 800004;
    stack.sandbox.recepai.dropResponseAfterWrite('/guests/checkin');
    stack.sandbox.hostelmate.dropResponseAfterWrite('/client/bookings');
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id, ...allFour(id) }));
    await stack.drain();
    const now = ours(id);
    expect(now.recepai).toHaveLength(1);
    expect(now.hostelmate).toHaveLength(1);
    for (const [log, route] of [
      [stack.sandbox.recepai.requestLog(), 'POST /:slug/guests/checkin'],
      [stack.sandbox.hostelmate.requestLog(), 'POST /bookings'],
    ] as const) {
      const calls = log.filter((e) => e.route === route);
      expect(calls).toHaveLength(2);
      expect(calls[0]).toMatchObject({ droppedConnection: true });
      expect(calls[1]).toMatchObject({ idempotentReplay: true });
    }
    expect(await storeFor(stack).getTargetState(key(id), 'recepai')).toMatchObject({ status: 'synced' });
    expect(await storeFor(stack).getTargetState(key(id), 'hostelmate')).toMatchObject({ status: 'synced' });
  });

  it('makes one record per target when the same message reaches two workers at once', async () => {
    const id = 800005;
    const instance = (name: string) => syncInstance(stack, name, { now: clock.now });
    const record = hostawayRecord(stack, id, allFour(id));
    const [a, b] = [instance('worker-a'), instance('worker-b')];
    await Promise.all([a({ Records: [record] }, localContext('a', 60_000)), b({ Records: [record] }, localContext('b', 60_000))]);
    // Whoever lost a state write retries; the retries find everything in place.
    for (let i = 0; i < 3; i++) await a({ Records: [record] }, localContext('a', 60_000));
    const now = ours(id);
    expect(now.minut).toHaveLength(1);
    expect(now.recepai).toHaveLength(1);
    expect(now.kasify).toHaveLength(1);
    expect(now.hostelmate).toHaveLength(1);
    for (const target of ['minut', 'recepai', 'kasify', 'hostelmate'] as const) {
      expect(await storeFor(stack).getTargetState(key(id), target)).toMatchObject({ status: 'synced' });
    }
  });
});
