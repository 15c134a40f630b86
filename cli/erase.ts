import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { emailHash } from '../functions/core/hash.ts';
import { QUEUE_SCHEMA_VERSION, SqsQueue, type EraseMessage } from '../functions/core/queue.ts';
import type { ReservationKey, Tombstone } from '../functions/core/store.ts';
import { CliError, type CliContext } from './env.ts';
import { follow } from './follow.ts';

/** What erasure cannot reach, whatever the targets allowed: printed with every report. */
export const BEYOND_ERASURE = [
  'Messages about it still queued or in the DLQ: when processed (or replayed) they meet the tombstone and are ignored.',
  'DynamoDB point-in-time backups, until they age out (35 days at most).',
  'Logs and metrics hold no guest data, so there is nothing to erase there.',
];

/**
 * `guest-sync erase <connection> <reservation> | --email <address>`: erasure on request. The sync
 * worker does the work (it has the targets' tokens and rate budgets); this command enqueues it,
 * follows it on the tombstone and prints what was removed where and what erasure cannot reach.
 * By email: the address is hashed with the stack's key and matched against the hash snapshots
 * carry; it is never sent or stored. `--lift` removes the tombstone so deliveries count again.
 */
export async function erase(
  ctx: CliContext,
  connectionId: string,
  reservationId: string | undefined,
  options: { email?: string; lift?: boolean; wait: number; json?: boolean },
  out: (line: string) => void,
  now: () => number = Date.now,
): Promise<number> {
  if (!!reservationId === !!options.email) throw new CliError('give a reservation id or --email <address>, not both');
  const store = ctx.store();
  const ids = reservationId ? [reservationId] : await findByEmail(ctx, connectionId, options.email!);
  if (ids.length === 0) {
    out(`No stored reservation of ${connectionId} has a guest with that email (a reservation stored before erasure by email existed is found once it changes, or by its id).`);
    return 1;
  }
  const keys: ReservationKey[] = ids.map((id) => ({ connectionId, reservationId: id }));

  if (options.lift) {
    for (const key of keys) {
      const lifted = await store.liftTombstone(key);
      out(lifted ? `Lifted the tombstone of ${connectionId}/${key.reservationId}: its next delivery is processed as new.` : `${connectionId}/${key.reservationId} has no tombstone.`);
    }
    return 0;
  }

  const requestedAt = now();
  const messages: EraseMessage[] = keys.map((key) => ({ v: QUEUE_SCHEMA_VERSION, kind: 'erase', connectionId, reservationId: key.reservationId, requestedAt }));
  await new SqsQueue(ctx.sqs, ctx.need('GUEST_SYNC_QUEUE_URL')).send(messages);
  if (!options.json) out(`Erasure of ${keys.length} reservation(s) of ${connectionId} queued; waiting up to ${options.wait} s for it to finish...`);

  const reports = new Map<string, Tombstone | undefined>();
  const allErased = () => keys.every((key) => reports.get(key.reservationId)?.status === 'erased');
  await follow(
    async () => {
      for (const key of keys) {
        if (reports.get(key.reservationId)?.status === 'erased') continue;
        const tombstone = await store.getTombstone(key);
        reports.set(key.reservationId, tombstone && tombstone.requestedAt >= requestedAt ? tombstone : undefined);
      }
    },
    allErased,
    options.wait,
  );

  const finished = allErased();
  if (options.json) {
    out(JSON.stringify({ connectionId, reservations: keys.map((k) => ({ reservationId: k.reservationId, erasure: reports.get(k.reservationId) ?? null })), beyondErasure: BEYOND_ERASURE }, null, 2));
    return finished ? 0 : 3;
  }
  for (const key of keys) printReport(`${connectionId}/${key.reservationId}`, reports.get(key.reservationId), out);
  out('What erasure cannot reach:');
  for (const line of BEYOND_ERASURE) out(`  - ${line}`);
  if (!finished) out(`Not finished within ${options.wait} s (a target may be down; the worker keeps retrying). Follow it with: guest-sync status ${connectionId} <reservation>`);
  return finished ? 0 : 3;
}

export function printReport(what: string, tombstone: Tombstone | undefined, out: (line: string) => void): void {
  if (!tombstone) {
    out(`${what}: not started yet`);
    return;
  }
  out(`${what}: ${tombstone.status === 'erased' ? 'ERASED' : 'erasing'}${tombstone.finishedAt ? ` at ${new Date(tombstone.finishedAt).toISOString()}` : ''}`);
  if (tombstone.targets.length === 0) out('    no target held a guest for it');
  for (const t of tombstone.targets) out(`    ${t.target.padEnd(10)} ${t.result.replaceAll('_', ' ')}${t.code ? ` (${t.code})` : ''}${t.note ? `: ${t.note}` : ''}`);
  if (tombstone.status === 'erased') {
    out(`    guest-sync deleted its snapshot and ${tombstone.deletedItems ?? 0} other item(s) (target states, trace); a tombstone without personal data stays for the retention period.`);
    out(`    Later deliveries are ignored and counted (DeliveryIgnoredErased). To undo: guest-sync erase --lift ${what.replace('/', ' ')}`);
  }
}

/** Reservations of the connection whose snapshot carries the email's keyed hash (a scan: an operator command). */
async function findByEmail(ctx: CliContext, connectionId: string, email: string): Promise<string[]> {
  const key = await ctx.store().emailHashKey({ create: false });
  if (!key) return [];
  const doc = DynamoDBDocumentClient.from(ctx.dynamodb);
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: ctx.need('GUEST_SYNC_TABLE'),
        FilterExpression: 'begins_with(pk, :prefix) AND sk = :snapshot AND emailHash = :hash',
        ExpressionAttributeValues: { ':prefix': `RES#${connectionId}#`, ':snapshot': 'SNAPSHOT', ':hash': emailHash(key, email) },
        ProjectionExpression: 'pk',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) ids.push(String(item.pk).slice(`RES#${connectionId}#`.length));
    start = page.LastEvaluatedKey;
  } while (start);
  return ids.sort();
}
