import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { SnapshotRecord, TargetState, type ReservationKey } from '../functions/core/store.ts';
import type { CliContext } from './env.ts';
import { progressBar } from './progress.ts';

const Item = z.object({ pk: z.string(), sk: z.string(), data: z.string(), tombstone: z.boolean().optional() });

export interface StoredReservation {
  key: ReservationKey;
  snapshot?: SnapshotRecord;
  states: TargetState[];
}

/**
 * Every stored reservation (of one connection, if given) with its snapshot and target states: a
 * table scan, fine for an operator command, and no index to pay for on every write.
 */
export async function scanReservations(ctx: CliContext, connectionId?: string): Promise<StoredReservation[]> {
  const found = new Map<string, StoredReservation>();
  const doc = DynamoDBDocumentClient.from(ctx.dynamodb);
  let start: Record<string, unknown> | undefined;
  const bar = progressBar('scanning stored reservations', 0);
  try {
    do {
      const page = await doc.send(
        new ScanCommand({
          TableName: ctx.need('GUEST_SYNC_TABLE'),
          FilterExpression: 'begins_with(pk, :prefix) AND (sk = :snapshot OR begins_with(sk, :target))',
          ExpressionAttributeValues: { ':prefix': connectionId ? `RES#${connectionId}#` : 'RES#', ':snapshot': 'SNAPSHOT', ':target': 'TARGET#' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const raw of page.Items ?? []) {
        const item = Item.parse(raw);
        const key = /^RES#([^#]+)#(.+)$/.exec(item.pk);
        if (!key) continue;
        let entry = found.get(item.pk);
        if (!entry) found.set(item.pk, (entry = { key: { connectionId: key[1]!, reservationId: key[2]! }, states: [] }));
        if (item.sk === 'SNAPSHOT') {
          if (!item.tombstone) entry.snapshot = SnapshotRecord.parse(JSON.parse(item.data));
        } else {
          entry.states.push(TargetState.parse(JSON.parse(item.data)));
        }
        bar.increment();
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    bar.stop();
  }
  return [...found.values()];
}
