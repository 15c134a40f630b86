import { randomUUID } from 'node:crypto';
import { own } from '../functions/core/own.ts';
import { addDays, utcDate } from '../functions/core/time.ts';
import { QUEUE_SCHEMA_VERSION, SqsQueue, type BackfillMessage } from '../functions/core/queue.ts';
import type { BackfillJob } from '../functions/core/store.ts';
import { fetcherLookup } from '../functions/sources/fetcher.ts';
import { fetcherFactories } from '../functions/sources/fetcher-registry.ts';
import { CliError, type CliContext } from './env.ts';
import { follow, printJob } from './follow.ts';
import { progressBar } from './progress.ts';

/** The default window: from today, a year ahead. */
const DEFAULT_DAYS_AHEAD = 365;

/**
 * `guest-sync backfill <connection> [--property P] [--from D] [--to D] [--dry-run]`: reads the
 * connection's upcoming and in-house reservations from the PMS API, inside the stack (the sync
 * worker, paced by the connection's API limits), and runs each through the webhook path. This
 * command starts the job and follows it (`--follow <job>` attaches to one again); the job goes
 * on in the stack whether or not anyone follows it.
 */
export async function backfill(
  ctx: CliContext,
  connectionId: string | undefined,
  options: { property?: string; from?: string; to?: string; dryRun?: boolean; follow?: string; wait: number; json?: boolean },
  out: (line: string) => void,
  now: () => number = Date.now,
): Promise<number> {
  const store = ctx.store();
  let jobId = options.follow;
  if (!jobId) {
    if (!connectionId) throw new CliError('backfill needs <connection> (or --follow <job>)');
    const { config } = await ctx.activeConfig();
    const connection = own(config.connections, connectionId);
    if (!connection) throw new CliError(`connection "${connectionId}" is not in the active config`);
    // Built only to ask what it can do: no request is made.
    const fetcher = fetcherLookup(fetcherFactories, { config, secrets: ctx.secrets(), store: ctx.storeOrUnused() })(connectionId);
    if (!fetcher?.listReservations) throw new CliError(`connection "${connectionId}" (${connection.pms}) cannot be backfilled: ${connection.api ? `guest-sync cannot list ${connection.pms} reservations yet` : 'it has no "api" (PMS API credentials) in the config'}; see docs/pms-sources.md`);
    if (options.property && !own(connection.properties, options.property)) out(`note: property ${options.property} is not in the config: its reservations are stored as unrouted until it is`);
    const from = options.from ?? utcDate(now());
    const to = options.to ?? addDays(from, DEFAULT_DAYS_AHEAD);
    for (const [name, value] of [['--from', from], ['--to', to]] as const) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new CliError(`${name} must be a date YYYY-MM-DD, got "${value}"`);
    }
    if (to < from) throw new CliError('--to is before --from');
    jobId = randomUUID().slice(0, 8);
    const message: BackfillMessage = { v: QUEUE_SCHEMA_VERSION, kind: 'backfill', connectionId, jobId, from, to, dryRun: !!options.dryRun, page: 0, ...(options.property ? { propertyId: options.property } : {}) };
    await new SqsQueue(ctx.sqs, ctx.need('GUEST_SYNC_QUEUE_URL')).send([message]);
    if (!options.json) out(`backfill ${jobId} started: ${connectionId}${options.property ? ` property ${options.property}` : ''}, stays from ${from} to ${to}${options.dryRun ? ' (dry run: no target is called)' : ''}. Follow it again with: guest-sync backfill --follow ${jobId}`);
  }

  const bar = options.json ? undefined : progressBar('reservations listed', 0);
  let shown = 0;
  let job: BackfillJob | undefined;
  try {
    job = await follow(
      () => store.getBackfillJob(jobId),
      (j) => j?.status === 'done' || j?.status === 'failed',
      options.wait,
      (j) => {
        if (!j || !bar) return;
        if (j.total !== null) bar.setTotal(j.total);
        bar.increment(j.listed - shown);
        shown = j.listed;
      },
    );
  } finally {
    bar?.stop();
  }
  printJob('backfill', jobId, job, options.json, printBackfill, out);
  if (!job || job.status === 'running' || job.status === 'queued') return 3;
  return job.status === 'done' ? 0 : 1;
}

function printBackfill(job: BackfillJob, out: (line: string) => void): void {
  const scope = `${job.connectionId}${job.propertyId ? ` property ${job.propertyId}` : ''}, ${job.from} to ${job.to}`;
  out(`backfill ${job.jobId} (${scope}): ${job.status.toUpperCase()}${job.dryRun ? ' (dry run)' : ''}, ${job.pages} page(s), ${job.listed} reservation(s) listed`);
  if (job.lastError) out(`  last error: ${job.lastError}${job.status === 'running' ? ' (the page is retried; replay-dlq resumes it if it lands in the DLQ)' : ''}`);
  if (job.unrouted > 0) out(`  ${job.unrouted} of a property missing from the config (stored as unrouted)`);
  if (!job.dryRun) {
    out(`  ${job.queued} queued to sync like webhooks: each target is called only where it does not already hold the reservation`);
    return;
  }
  const targets = Object.keys(job.plan).sort();
  if (targets.length === 0) out('  no routed target would be called');
  for (const target of targets) {
    const counts = job.plan[target]!;
    out(`  ${target.padEnd(10)} ${['create', 'update', 'remove', 'nothing', 'unmappable'].filter((a) => counts[a]).map((a) => `${a} ${counts[a]}`).join(', ')}`);
  }
  for (const p of job.planned) out(`    would ${p.action.padEnd(6)} ${p.target.padEnd(10)} ${job.connectionId}/${p.reservationId}`);
}
