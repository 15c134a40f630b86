import { findProperty } from '../functions/core/config.ts';
import type { Reservation } from '../functions/core/reservation.ts';
import type { CliContext } from './env.ts';
import { printReport } from './erase.ts';
import { heldByLane } from '../functions/sync/state-writer.ts';

/**
 * `guest-sync status <connection> <reservation>`: the stored snapshot and each target's state.
 * Operators need to recognise a stay, not to read personal data: the guest's name is shown as
 * initials only, and email and phone only as "on file" or not.
 */
export async function status(ctx: CliContext, connectionId: string, reservationId: string, options: { json?: boolean }, out: (line: string) => void): Promise<number> {
  const store = ctx.store();
  const key = { connectionId, reservationId };
  const [{ snapshot, tombstone }, targets, unreadable] = await Promise.all([store.getSnapshotOrTombstone(key), store.listTargetStates(key), store.getUnreadable(key)]);
  if (!snapshot) {
    if (tombstone) {
      if (options.json) out(JSON.stringify({ connectionId, reservationId, erasure: tombstone }, null, 2));
      else printReport(`${connectionId}/${reservationId}`, tombstone, out);
      return 0;
    }
  }
  if (!snapshot && targets.length === 0 && !unreadable) {
    out(`No stored state for ${connectionId}/${reservationId}: no event for it reached sync (or its data has expired).`);
    return 1;
  }
  // The stored flag says whether the property was configured when the event was stored; the
  // config in force now decides whether it is routed (a property added since needs a resync).
  const routedNow = snapshot ? await isRoutedNow(ctx, connectionId, snapshot.reservation.propertyId) : undefined;
  const view = {
    connectionId,
    reservationId,
    snapshot: snapshot
      ? {
          propertyId: snapshot.reservation.propertyId,
          source: snapshot.reservation.source,
          status: snapshot.reservation.status,
          sourceStatus: snapshot.reservation.sourceStatus,
          stay: `${snapshot.reservation.stay.checkInDate} -> ${snapshot.reservation.stay.checkOutDate}`,
          guest: maskedGuest(snapshot.reservation),
          sourceVersion: snapshot.reservation.sourceVersion,
          unrouted: routedNow === undefined ? snapshot.unrouted : !routedNow,
          unroutedWhenStored: snapshot.unrouted,
          storedAt: iso(snapshot.storedAt),
          expiresAt: iso(snapshot.ttl * 1000),
        }
      : null,
    targets: targets.map((t) => ({
      target: t.target,
      status: t.status,
      ids: t.targetIds,
      lastError: t.lastError ? { code: t.lastError.code, permanent: t.lastError.permanent, message: t.lastError.message, at: iso(t.lastError.at) } : null,
      warnings: t.warnings,
      pendingCreate: t.intent ? { since: iso(t.intent.startedAt) } : null,
      withLaneUntil: heldByLane(t, Date.now()) !== undefined ? iso(t.handoff!.until) : null,
      shadow: t.shadow ? { wouldCall: t.shadow.action, at: iso(t.shadow.at) } : null,
      updatedAt: iso(t.updatedAt),
    })),
    setAside: unreadable ? { messageId: unreadable.messageId, reason: unreadable.reason, at: iso(unreadable.at) } : null,
  };
  if (options.json) {
    out(JSON.stringify(view, null, 2));
    return 0;
  }
  out(`Reservation ${connectionId}/${reservationId}`);
  if (view.snapshot) {
    const s = view.snapshot;
    const note = s.unrouted
      ? '   (UNROUTED: the property is not in the config; add it, then resync)'
      : s.unroutedWhenStored && view.targets.length === 0
        ? '   (configured since this event was stored: resync it to reach the targets)'
        : '';
    out(`  property     ${s.propertyId}${note}`);
    out(`  status       ${s.status} (PMS: ${s.sourceStatus}, version ${s.sourceVersion})`);
    out(`  stay         ${s.stay}`);
    out(`  guest        ${s.guest}`);
    out(`  stored       ${s.storedAt}   expires ${s.expiresAt}`);
  } else {
    out('  snapshot     none (expired?)');
  }
  out(view.targets.length === 0 ? 'Targets: none synced yet' : 'Targets:');
  for (const t of view.targets) {
    const ids = Object.entries(t.ids).map(([k, v]) => `${k}=${v}`).join(' ') || '-';
    out(`  ${t.target.padEnd(10)} ${t.status.padEnd(9)} ${ids}   updated ${t.updatedAt}`);
    if (t.lastError) out(`             last error: ${t.lastError.code}${t.lastError.permanent ? ' (permanent)' : ' (retrying)'} at ${t.lastError.at}: ${t.lastError.message}`);
    if (t.warnings.length > 0) out(`             warnings: ${t.warnings.join(', ')}`);
    if (t.pendingCreate) out(`             create in progress since ${t.pendingCreate.since}`);
    if (t.withLaneUntil) out(`             handed to the ${t.target} lane (a backlog); held until ${t.withLaneUntil} at the latest`);
    if (t.shadow) out(`             shadow mode: would ${t.shadow.wouldCall === 'none' ? 'make no call' : t.shadow.wouldCall} (planned ${t.shadow.at}); nothing was sent`);
  }
  if (view.setAside) {
    out(`Set aside: message ${view.setAside.messageId} could not be read by this release and is in the DLQ (${view.setAside.at}): ${view.setAside.reason}`);
    out('  Deploy a release that reads it, then: guest-sync replay-dlq');
  }
  return 0;
}

function maskedGuest(reservation: Reservation): string {
  const { guest } = reservation;
  const name = guest.fullName ?? [guest.firstName, guest.lastName].filter(Boolean).join(' ');
  const initials = name
    .split(/\s+/)
    .filter((part) => part !== '')
    .map((part) => `${part[0]!.toUpperCase()}.`)
    .join(' ');
  return `${initials || '(no name)'}   email ${guest.email ? 'on file' : 'none'}, phone ${guest.phone ? 'on file' : 'none'}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Undefined when no config is at hand (then the stored flag is all there is). */
async function isRoutedNow(ctx: CliContext, connectionId: string, propertyId: string): Promise<boolean | undefined> {
  try {
    const { config } = await ctx.activeConfig();
    return findProperty(config, connectionId, propertyId) !== undefined;
  } catch {
    return undefined;
  }
}
