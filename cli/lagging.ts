import { findProperty, type Config } from '../functions/core/config.ts';
import type { TargetState } from '../functions/core/store.ts';
import type { CliContext } from './env.ts';
import { scanReservations } from './scan.ts';

export interface LaggingTarget {
  target: string;
  status: string;
  /** Epoch ms since when the target has been behind. */
  since: number;
  reason: string;
  retryAt?: number;
}

export interface LaggingReservation {
  connectionId: string;
  reservationId: string;
  propertyId: string | null;
  targets: LaggingTarget[];
}

/**
 * `guest-sync status --lagging [--minutes N] [connection]`: reservations whose latest delivery
 * has not reached every routed target after N minutes, with the reason per target: a target
 * retrying or parked (pending) since then, one that refused the guest for good, or a routed
 * target never attempted (a property configured since, not resynced). A table scan (scan.ts).
 * Exit status 1 when anything lags, so a script can use it.
 */
export async function lagging(ctx: CliContext, connectionId: string | undefined, options: { minutes: number; json?: boolean }, out: (line: string) => void, now: () => number = Date.now): Promise<number> {
  const config = await activeConfigOrUndefined(ctx);
  const cutoff = now() - options.minutes * 60_000;
  const stored = await scanReservations(ctx, connectionId);

  const found: LaggingReservation[] = [];
  for (const { key, snapshot, states: targetStates } of stored) {
    const targets: LaggingTarget[] = [];
    for (const state of targetStates) {
      const behind = behindOf(state);
      if (behind && behind.since <= cutoff) targets.push(behind);
    }
    // A routed target with no state at all: never attempted since the property was configured.
    const property = snapshot && config ? findProperty(config, snapshot.reservation.connectionId, snapshot.reservation.propertyId) : undefined;
    if (snapshot && property && snapshot.storedAt <= cutoff && property.mode !== 'shadow') {
      for (const name of Object.keys(property.targets)) {
        if (!targetStates.some((s) => s.target === name)) {
          targets.push({ target: name, status: 'never attempted', since: snapshot.storedAt, reason: snapshot.unrouted ? 'the property was configured after this reservation arrived: resync it' : 'no attempt recorded: resync it' });
        }
      }
    }
    if (targets.length === 0) continue;
    found.push({ connectionId: key.connectionId, reservationId: key.reservationId, propertyId: snapshot?.reservation.propertyId ?? null, targets: targets.sort((a, b) => a.target.localeCompare(b.target)) });
  }
  found.sort((a, b) => Math.min(...a.targets.map((t) => t.since)) - Math.min(...b.targets.map((t) => t.since)));

  if (options.json) {
    out(JSON.stringify({ minutes: options.minutes, lagging: found.map((r) => ({ ...r, targets: r.targets.map((t) => ({ ...t, since: iso(t.since), ...(t.retryAt !== undefined ? { retryAt: iso(t.retryAt) } : {}) })) })) }, null, 2));
    return found.length > 0 ? 1 : 0;
  }
  if (found.length === 0) {
    out(`No reservation is behind on any target for more than ${options.minutes} minute(s).`);
    return 0;
  }
  out(`${found.length} reservation(s) behind on a target for more than ${options.minutes} minute(s), oldest first:`);
  for (const r of found) {
    out(`${r.connectionId}/${r.reservationId}${r.propertyId ? `  property ${r.propertyId}` : ''}`);
    for (const t of r.targets) {
      const minutes = Math.floor((now() - t.since) / 60_000);
      out(`    ${t.target.padEnd(10)} ${t.status.padEnd(9)} for ${minutes} min  ${t.reason}${t.retryAt !== undefined ? `  (next try ${iso(t.retryAt)})` : ''}`);
    }
  }
  out('Details: guest-sync status <connection> <reservation>, guest-sync trace <connection> <reservation>.');
  return 1;
}

/** Whether a target state is behind, since when and why; undefined when it holds what it should. */
function behindOf(state: TargetState): LaggingTarget | undefined {
  const error = state.lastError ? `${state.lastError.code}: ${state.lastError.message}` : 'no error recorded';
  if (state.status === 'retrying' || state.status === 'pending') {
    return {
      target: state.target,
      status: state.status,
      since: state.behindSince ?? state.lastError?.at ?? state.updatedAt,
      reason: error,
      ...(state.status === 'pending' && typeof state.dueAt === 'number' ? { retryAt: state.dueAt } : {}),
    };
  }
  if (state.status === 'failed') return { target: state.target, status: 'failed', since: state.lastError?.at ?? state.updatedAt, reason: `refused for good, until the reservation changes: ${error}` };
  return undefined;
}

async function activeConfigOrUndefined(ctx: CliContext): Promise<Config | undefined> {
  try {
    return (await ctx.activeConfig()).config;
  } catch {
    return undefined;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
