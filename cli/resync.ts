import { QUEUE_SCHEMA_VERSION, SqsQueue, type ResyncMessage } from '../functions/core/queue.ts';
import type { Store } from '../functions/core/store.ts';
import type { CliContext } from './env.ts';
import { progressBar } from './progress.ts';
import { scanReservations } from './scan.ts';
import { editTargetStates } from './target-states.ts';

/**
 * `guest-sync resync <connection> [reservation] [--property id]`: enqueues `resync` messages,
 * which drive every routed target toward the stored snapshot again (e.g. after adding a
 * property, or once a target recovered). A target whose applied record already matches is
 * skipped unless `--force` (a guest deleted at the target by hand, a permanent failure fixed
 * at the target: the target is called again). Without a reservation it resyncs every stored
 * reservation of the connection (or of one property): a table scan (scan.ts).
 */
export async function resync(
  ctx: CliContext,
  connectionId: string,
  reservationId: string | undefined,
  options: { property?: string; force?: boolean },
  out: (line: string) => void,
  now: () => number = Date.now,
): Promise<number> {
  const queue = new SqsQueue(ctx.sqs, ctx.need('GUEST_SYNC_QUEUE_URL'));
  let reservationIds: string[];
  if (reservationId) {
    if (options.property) throw new Error('give a reservation or --property, not both');
    const snapshot = await ctx.store().getSnapshot({ connectionId, reservationId });
    if (!snapshot) {
      out(`No stored snapshot for ${connectionId}/${reservationId}: nothing to resync (sync has never seen it).`);
      return 1;
    }
    reservationIds = [reservationId];
  } else {
    reservationIds = await findReservations(ctx, connectionId, options.property);
  }
  const requestedAt = now();
  const messages: ResyncMessage[] = reservationIds.map((id) => ({ v: QUEUE_SCHEMA_VERSION, kind: 'resync', connectionId, reservationId: id, requestedAt, reason: 'operator' }));
  const bar = progressBar('enqueueing resyncs', messages.length);
  const store = options.force ? ctx.store() : undefined;
  try {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      if (store) for (const message of chunk) await markForRetry(store, connectionId, message.reservationId, now());
      await queue.send(chunk);
      bar.increment(chunk.length);
    }
  } finally {
    bar.stop();
  }
  const scope = reservationId ? `reservation ${reservationId}` : options.property ? `property ${options.property}` : 'the connection';
  out(`enqueued ${messages.length} ${options.force ? 'forced ' : ''}resync message(s) for ${connectionId}, ${scope}`);
  return 0;
}

async function findReservations(ctx: CliContext, connectionId: string, propertyId: string | undefined): Promise<string[]> {
  // Erased reservations (a tombstone, no snapshot) are not resynced.
  const stored = await scanReservations(ctx, connectionId);
  return stored.flatMap((r) => (r.snapshot && (propertyId === undefined || r.snapshot.reservation.propertyId === propertyId) ? [r.key.reservationId] : [])).sort();
}

/**
 * `--force`: marks each target's state `retrying`, which makes sync call the target again even
 * though the applied fingerprint matches. A read-only guest (a vendor's native integration) is
 * left alone, as sync would. Conditional on the state's version, so a sync running at the same
 * moment is never overwritten: on a conflict the state is read again.
 */
async function markForRetry(store: Store, connectionId: string, reservationId: string, at: number): Promise<void> {
  await editTargetStates(
    store,
    { connectionId, reservationId },
    (state) =>
      state.status === 'readonly' || state.status === 'retrying'
        ? undefined
        : { ...state, status: 'retrying', lastError: state.lastError ?? { code: 'operator_resync', message: 'resync --force requested by an operator', permanent: false, at }, updatedAt: at },
    'mark it for a forced resync',
  );
}
