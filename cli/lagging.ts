import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { findProperty, type Config } from '../functions/core/config.ts';
import { SnapshotRecord, TargetState } from '../functions/core/store.ts';
import type { CliContext } from './env.ts';
import { progressBar } from './progress.ts';

const Item = z.object({ pk: z.string(), sk: z.string(), data: z.string() });

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
 * target never attempted (a property configured since, not resynced). A table scan, like
 * `resync` of a connection: an operator command, with no index to pay for on every write.
 * Exit status 1 when anything lags, so a script can use it.
 */
export async function lagging(ctx: CliContext, connectionId: string | undefined, options: { minutes: number; json?: boolean }, out: (line: string) => void, now: () => number = Date.now): Promise<number> {
  const config = await activeConfigOrUndefined(ctx);
  const cutoff = now() - options.minutes * 60_000;
  const snapshots = new Map<string, SnapshotRecord>();
  const states = new Map<string, TargetState[]>();
  const doc = DynamoDBDocumentClient.from(ctx.dynamodb);
  const prefix = connectionId ? `RES#${connectionId}#` : 'RES#';
  let start: Record<string, unknown> | undefined;
  const bar = progressBar('scanning stored reservations', 0);
  try {
    do {
      const page = await doc.send(
        new ScanCommand({
          TableName: ctx.need('GUEST_SYNC_TABLE'),
          FilterExpression: 'begins_with(pk, :prefix) AND (sk = :snapshot OR begins_with(sk, :target))',
          ExpressionAttributeValues: { ':prefix': prefix, ':snapshot': 'SNAPSHOT', ':target': 'TARGET#' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const raw of page.Items ?? []) {
        const item = Item.parse(raw);
        const data: unknown = JSON.parse(item.data);
        if (item.sk === 'SNAPSHOT') snapshots.set(item.pk, SnapshotRecord.parse(data));
        else states.set(item.pk, [...(states.get(item.pk) ?? []), TargetState.parse(data)]);
        bar.increment();
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    bar.stop();
  }

  const found: LaggingReservation[] = [];
  for (const pk of new Set([...snapshots.keys(), ...states.keys()])) {
    const snapshot = snapshots.get(pk);
    const targetStates = states.get(pk) ?? [];
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
    const key = /^RES#([^#]+)#(.+)$/.exec(pk);
    found.push({ connectionId: key?.[1] ?? '?', reservationId: key?.[2] ?? pk, propertyId: snapshot?.reservation.propertyId ?? null, targets: targets.sort((a, b) => a.target.localeCompare(b.target)) });
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
