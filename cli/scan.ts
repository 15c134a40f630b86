import type { StoredReservation } from '../functions/core/store.ts';
import type { CliContext } from './env.ts';
import { progressBar } from './progress.ts';

export type { StoredReservation };

/** Every stored reservation (of one connection) with its snapshot and target states: a table scan. */
export async function scanReservations(ctx: CliContext, connectionId?: string): Promise<StoredReservation[]> {
  const bar = progressBar('scanning stored reservations', 0);
  try {
    const found = await ctx.store().scanReservations(connectionId);
    bar.increment(found.length);
    return found;
  } finally {
    bar.stop();
  }
}
