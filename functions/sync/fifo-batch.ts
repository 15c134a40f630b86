import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

/**
 * A FIFO batch, processed as SQS FIFO requires and no slower: the records of one message group
 * (one reservation) one after another, in order, and different groups at the same time, so a
 * reservation waiting on a slow target holds back no other. When a record fails, it and every
 * later record of its group are reported as failures (they come back, still in order); the
 * other groups go on. Powertools' FIFO processor does the same one record at a time.
 */
export async function processFifoBatch(records: readonly SQSRecord[], processRecord: (record: SQSRecord) => Promise<void>): Promise<SQSBatchResponse> {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const group = record.attributes.MessageGroupId ?? `no-group#${record.messageId}`;
    const list = groups.get(group);
    if (list) list.push(record);
    else groups.set(group, [record]);
  }
  const failed = new Set<string>();
  await Promise.all(
    [...groups.values()].map(async (group) => {
      for (const [index, record] of group.entries()) {
        try {
          await processRecord(record);
        } catch {
          for (const later of group.slice(index)) failed.add(later.messageId);
          return;
        }
      }
    }),
  );
  return { batchItemFailures: records.filter((record) => failed.has(record.messageId)).map((record) => ({ itemIdentifier: record.messageId })) };
}
