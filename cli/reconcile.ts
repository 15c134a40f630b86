import { randomUUID } from 'node:crypto';
import { QUEUE_SCHEMA_VERSION, SqsQueue, type ReconcileMessage } from '../functions/core/queue.ts';
import type { ReconcileJob } from '../functions/core/store.ts';
import { CliError, type CliContext } from './env.ts';
import { follow, printJob } from './follow.ts';

/**
 * `guest-sync reconcile [--connection C] [--property P] [--dry-run]`: runs reconciliation in the
 * stack now (the same run the daily schedule starts) and prints its report: drift found (and
 * repaired, unless a dry run), records guest-sync did not create (left untouched), targets it
 * could not check, and the backfill that re-reads the PMS.
 */
export async function reconcile(
  ctx: CliContext,
  options: { connection?: string; property?: string; dryRun?: boolean; wait: number; json?: boolean },
  out: (line: string) => void,
  now: () => number = Date.now,
): Promise<number> {
  if (options.property && !options.connection) throw new CliError('--property needs --connection');
  const jobId = randomUUID().slice(0, 8);
  const message: ReconcileMessage = { v: QUEUE_SCHEMA_VERSION, kind: 'reconcile', jobId, connectionId: options.connection ?? '*', dryRun: !!options.dryRun, requestedAt: now(), step: 0, ...(options.property ? { propertyId: options.property } : {}) };
  await new SqsQueue(ctx.sqs, ctx.need('GUEST_SYNC_QUEUE_URL')).send([message]);
  if (!options.json) out(`reconcile ${jobId} started${options.dryRun ? ' (dry run: nothing is repaired)' : ''}; waiting up to ${options.wait} s...`);
  const store = ctx.store();
  const job = await follow(() => store.getReconcileJob(jobId), (j) => j?.status === 'done', options.wait);
  printJob('reconcile', jobId, job, options.json, printReport, out);
  return job?.status === 'done' ? 0 : 3;
}

function printReport(job: ReconcileJob, out: (line: string) => void): void {
  out(`reconcile ${job.jobId}: ${job.status.toUpperCase()}${job.dryRun ? ' (dry run)' : ''}`);
  if (job.lastError) out(`  last error: ${job.lastError} (retried)`);
  const checked = Object.entries(job.checked).map(([t, n]) => `${t} ${n} record(s)`);
  out(`  compared: ${checked.length > 0 ? checked.join(', ') : 'nothing (no stored reservation with a target record)'}`);
  if (job.unchecked.length > 0) out(`  not compared (guest-sync cannot list what they hold yet): ${job.unchecked.join(', ')}`);
  if (job.drift.length === 0) out('  no drift: every target holds what guest-sync applied');
  else out(`  drift, ${job.dryRun ? 'found (not repaired: dry run)' : 'repaired through a resync'}:`);
  for (const d of job.drift) out(`    ${d.target.padEnd(10)} ${d.kind.replaceAll('_', ' ').padEnd(17)} ${d.connectionId}/${d.reservationId}${d.fields ? `   (${d.fields.join(', ')})` : ''}`);
  if (job.unknown.length > 0) out('  records guest-sync did not create (left untouched):');
  for (const u of job.unknown) out(`    ${u.target.padEnd(10)} property ${u.propertyId}   ${u.id}: ${u.why}`);
  for (const id of job.backfills) out(`  PMS re-read (webhooks never sent): backfill ${id}; follow it with guest-sync backfill --follow ${id}`);
}
