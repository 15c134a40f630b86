import type { Config, PropertyConfig, TargetName } from '../functions/core/config.ts';
import { own } from '../functions/core/own.ts';
import { QUEUE_SCHEMA_VERSION, SqsQueue, type OffboardMessage } from '../functions/core/queue.ts';
import type { ReservationKey, Store, TargetState } from '../functions/core/store.ts';
import { holdsGuest } from '../functions/sync/offboard.ts';
import type { CliContext } from './env.ts';
import { scanReservations } from './scan.ts';
import { editTargetStates } from './target-states.ts';

/** A route (connection, property, target) the new config no longer has, with the property as it was. */
export interface RemovedRoute {
  connectionId: string;
  propertyId: string;
  target: TargetName;
  property: PropertyConfig;
}

/** Routes in `before` that `after` drops: a whole connection, a property, or one target of a property. */
export function removedRoutes(before: Config, after: Config): RemovedRoute[] {
  const removed: RemovedRoute[] = [];
  for (const [connectionId, connection] of Object.entries(before.connections)) {
    for (const [propertyId, property] of Object.entries(connection.properties)) {
      const now = own(own(after.connections, connectionId)?.properties ?? {}, propertyId);
      for (const target of Object.keys(property.targets) as TargetName[]) {
        if (!now || !own(now.targets, target)) removed.push({ connectionId, propertyId, target, property });
      }
    }
  }
  return removed;
}

/**
 * Offboarding, at `config push`: the guests guest-sync created through routes the new config
 * removes are never silently orphaned. `leave` (the default): each stays at its target, its
 * state becomes `offboarded`, and they are listed here (and by `status --offboarded`). `remove`:
 * an `offboard` message per guest removes it as a cancellation would. Returns how many.
 */
export async function offboardRemovedRoutes(ctx: CliContext, before: Config, after: Config, out: (line: string) => void, now: () => number = Date.now): Promise<number> {
  const removed = removedRoutes(before, after);
  if (removed.length === 0) return 0;
  const connections = [...new Set(removed.map((r) => r.connectionId))];
  const affected: { key: ReservationKey; state: TargetState; route: RemovedRoute }[] = [];
  for (const connectionId of connections) {
    for (const stored of await scanReservations(ctx, connectionId)) {
      if (!stored.snapshot) continue;
      for (const state of stored.states) {
        const route = removed.find((r) => r.connectionId === connectionId && r.propertyId === stored.snapshot!.reservation.propertyId && r.target === state.target);
        if (route && holdsGuest(state) && state.status !== 'offboarded') affected.push({ key: stored.key, state, route });
      }
    }
  }
  const routes = removed.map((r) => `${r.connectionId}/${r.propertyId} -> ${r.target}`).join(', ');
  if (affected.length === 0) {
    out(`offboarding: route(s) removed (${routes}); guest-sync created no guest there that it still holds`);
    return 0;
  }
  if (after.offboarding === 'remove') {
    const requestedAt = now();
    const messages: OffboardMessage[] = affected.map(({ key, route }) => ({ v: QUEUE_SCHEMA_VERSION, kind: 'offboard', connectionId: key.connectionId, reservationId: key.reservationId, target: route.target, property: route.property, requestedAt }));
    await new SqsQueue(ctx.sqs, ctx.need('GUEST_SYNC_QUEUE_URL')).send(messages);
    out(`offboarding: remove — ${affected.length} guest(s) created through the removed route(s) (${routes}) will be removed from their targets:`);
  } else {
    const store = ctx.store();
    for (const { key, state } of affected) await markOffboarded(store, key, state.target, now());
    out(`offboarding: leave — ${affected.length} guest(s) created through the removed route(s) (${routes}) stay at their targets, listed here and by guest-sync status --offboarded:`);
  }
  for (const { key, state } of affected) {
    const ids = Object.entries(state.targetIds).map(([k, v]) => `${k}=${v}`).join(' ');
    out(`  ${state.target.padEnd(10)} ${key.connectionId}/${key.reservationId}   ${ids}`);
  }
  return affected.length;
}

async function markOffboarded(store: Store, key: ReservationKey, target: string, at: number): Promise<void> {
  await editTargetStates(store, key, (state) => (state.target === target && holdsGuest(state) && state.status !== 'offboarded' ? { ...state, status: 'offboarded', dueAt: null, updatedAt: at } : undefined), `mark ${target} as offboarded`);
}

/** `guest-sync status --offboarded [connection]`: every guest left at a target whose route was removed. */
export async function listOffboarded(ctx: CliContext, connectionId: string | undefined, options: { json?: boolean }, out: (line: string) => void): Promise<number> {
  const left = (await scanReservations(ctx, connectionId)).flatMap((r) => r.states.filter((s) => s.status === 'offboarded').map((state) => ({ ...r.key, target: state.target, ids: state.targetIds, since: new Date(state.updatedAt).toISOString() })));
  if (options.json) {
    out(JSON.stringify({ offboarded: left }, null, 2));
    return 0;
  }
  if (left.length === 0) {
    out('No guest was left at a target after its route was removed.');
    return 0;
  }
  out(`${left.length} guest(s) left at their target after their route was removed (offboarding: leave):`);
  for (const l of left) out(`  ${l.target.padEnd(10)} ${l.connectionId}/${l.reservationId}   ${Object.entries(l.ids).map(([k, v]) => `${k}=${v}`).join(' ')}   since ${l.since}`);
  return 0;
}
