import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { errorMessage } from '../functions/core/errors.ts';
import { configCheck, configPush, configReset } from './config.ts';
import { CliContext, CliError } from './env.ts';
import { replayDlq } from './replay-dlq.ts';
import { resync } from './resync.ts';
import { backfill } from './backfill.ts';
import { erase } from './erase.ts';
import { reconcile } from './reconcile.ts';
import { lagging } from './lagging.ts';
import { listOffboarded } from './offboard.ts';
import { status } from './status.ts';
import { trace } from './trace.ts';

/**
 * `guest-sync <command>`: the operator CLI, against the local stack or a deployed one alike.
 * It finds the stack through environment variables (see cli/env.ts and docs/runbook.md).
 * Returns the exit status.
 */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env, out: (line: string) => void = (line) => console.log(line)): Promise<number> {
  let exitCode = 0;
  let ctx: CliContext | undefined;
  const context = () => (ctx ??= new CliContext(env));

  const program = new Command('guest-sync')
    .description('Operate guest-sync: inspect or trace a reservation, replay the DLQ, resync, check and push the config.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('status')
    .description("Show a reservation's stored snapshot and each target's state and last error (guest name as initials only); or, with --lagging, every reservation behind on a target.")
    .argument('[connection]', 'connection id from the config, e.g. hostaway-demo (with --lagging: only this connection)')
    .argument('[reservation]', "the PMS's reservation id")
    .option('--lagging', 'list reservations whose latest delivery has not reached every routed target, with the reason per target (exit status 1 if any)')
    .option('--offboarded', 'list the guests left at a target after their route was removed from the config')
    .option('--minutes <n>', 'with --lagging: behind for more than n minutes (default 30)', nonNegativeNumber, 30)
    .option('--json', 'print JSON instead of text')
    .action(async (connection: string | undefined, reservation: string | undefined, options: { json?: boolean; lagging?: boolean; offboarded?: boolean; minutes: number }) => {
      if (options.offboarded) {
        if (reservation) throw new CliError('--offboarded lists every offboarded guest: give at most a connection');
        exitCode = await listOffboarded(context(), connection, options, out);
        return;
      }
      if (options.lagging) {
        if (reservation) throw new CliError('--lagging lists every lagging reservation: give at most a connection');
        exitCode = await lagging(context(), connection, options, out);
        return;
      }
      if (!connection || !reservation) throw new CliError('status needs <connection> <reservation> (or --lagging)');
      exitCode = await status(context(), connection, reservation, options, out);
    });

  program
    .command('trace')
    .description("Show a reservation's timeline: each delivery, what changed (field names only), and each target's action and answer.")
    .argument('<connection>', 'connection id from the config')
    .argument('<reservation>', "the PMS's reservation id")
    .option('--json', 'print JSON instead of text')
    .action(async (connection: string, reservation: string, options: { json?: boolean }) => {
      exitCode = await trace(context(), connection, reservation, options, out);
    });

  program
    .command('replay-dlq')
    .description('Move DLQ messages back to the queue with fresh deduplication ids, and report counts.')
    .option('--connection <id>', 'only messages of this connection; the others stay in the DLQ')
    .option('--max <n>', 'replay at most n messages', positiveInteger)
    .option('--include-unreadable', 'also move back messages this CLI cannot read (set aside by sync), once a release that reads them is deployed')
    .action(async (options: { connection?: string; max?: number; includeUnreadable?: boolean }) => {
      await replayDlq(context(), options, out);
    });

  program
    .command('resync')
    .description('Drive the targets to the stored state again: one reservation, one property, or the whole connection.')
    .argument('<connection>', 'connection id from the config')
    .argument('[reservation]', 'one reservation id; without it, every stored reservation of the connection')
    .option('--property <id>', "only the reservations of this PMS property (e.g. after adding it to the config)")
    .option('--force', 'call each target even where the applied record already matches (a guest deleted by hand, a permanent failure fixed)')
    .action(async (connection: string, reservation: string | undefined, options: { property?: string; force?: boolean }) => {
      exitCode = await resync(context(), connection, reservation, options, out);
    });

  program
    .command('backfill')
    .description("Read a connection's upcoming and in-house reservations from the PMS API and sync each like a webhook (safe to run twice).")
    .argument('[connection]', 'connection id from the config (its PMS must have an API to list from)')
    .option('--property <id>', 'only this PMS property (e.g. one just added with config push)')
    .option('--from <date>', 'stays ending on or after this date, YYYY-MM-DD (default today)')
    .option('--to <date>', 'stays starting on or before this date, YYYY-MM-DD (default a year after --from)')
    .option('--dry-run', 'print what each target would get (create, update, remove) without calling any')
    .option('--follow <job>', 'follow a backfill started earlier instead of starting one')
    .option('--wait <seconds>', 'how long to follow before returning (exit status 3 if unfinished; the job goes on)', nonNegativeNumber, 600)
    .option('--json', 'print JSON instead of text')
    .action(async (connection: string | undefined, options: { property?: string; from?: string; to?: string; dryRun?: boolean; follow?: string; wait: number; json?: boolean }) => {
      exitCode = await backfill(context(), connection, options, out);
    });

  program
    .command('reconcile')
    .description('Compare what each target holds with what guest-sync applied, repair drift, report records it did not create, and re-read the PMS.')
    .option('--connection <id>', 'only this connection')
    .option('--property <id>', 'only this PMS property (with --connection)')
    .option('--dry-run', 'report only: repair nothing (list calls are read-only)')
    .option('--wait <seconds>', 'how long to follow the run before returning (exit status 3 if unfinished)', nonNegativeNumber, 300)
    .option('--json', 'print JSON instead of text')
    .action(async (options: { connection?: string; property?: string; dryRun?: boolean; wait: number; json?: boolean }) => {
      exitCode = await reconcile(context(), options, out);
    });

  program
    .command('erase')
    .description("Erase a guest on request (GDPR Art. 17): remove it from every target, delete what guest-sync holds, and ignore later deliveries (a tombstone).")
    .argument('<connection>', 'connection id from the config')
    .argument('[reservation]', "the PMS's reservation id")
    .option('--email <address>', "every stored reservation of the connection whose guest has this email (matched on a keyed hash)")
    .option('--lift', 'remove the tombstone instead: deliveries for the reservation are processed again')
    .option('--wait <seconds>', 'how long to follow the erasure before returning (exit status 3 if unfinished)', nonNegativeNumber, 120)
    .option('--json', 'print JSON instead of text')
    .action(async (connection: string, reservation: string | undefined, options: { email?: string; lift?: boolean; wait: number; json?: boolean }) => {
      exitCode = await erase(context(), connection, reservation, options, out);
    });

  const config = program.command('config').description('Check or change the config the functions use.');
  config
    .command('check')
    .description("Validate the config and test every secret it names (connection secrets present, each target's credentials accepted).")
    .option('--file <path>', 'check this file instead of the config in force on the stack')
    .action(async (options: { file?: string }) => {
      exitCode = await configCheck(context(), options, out);
    });
  config
    .command('push')
    .description('Validate a config file and make it the active config; functions use it within 60 s, no cdk deploy.')
    .argument('<file>', 'the config JSON file')
    .action(async (file: string) => {
      exitCode = await configPush(context(), file, out);
    });
  config
    .command('reset')
    .description('Remove the pushed config: the functions fall back to the config file of the last deploy.')
    .action(async () => {
      exitCode = await configReset(context(), out);
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
    if (error instanceof CliError) {
      console.error(`guest-sync: ${error.message}`);
      return 2;
    }
    console.error(`guest-sync: ${errorMessage(error)}`);
    return 1;
  } finally {
    ctx?.close();
  }
  return exitCode;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of minutes, 0 or more');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
