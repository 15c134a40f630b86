import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { processFifoBatch } from '../../functions/sync/fifo-batch.ts';

const record = (id: string, group: string): SQSRecord => ({ messageId: id, attributes: { MessageGroupId: group } }) as unknown as SQSRecord;
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('a FIFO batch', () => {
  it('keeps each group in order and runs different groups at once', async () => {
    const started: string[] = [];
    const finished: string[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const batch = [record('a1', 'A'), record('b1', 'B'), record('a2', 'A'), record('c1', 'C'), record('b2', 'B'), record('a3', 'A')];
    const result = await processFifoBatch(batch, async (r) => {
      started.push(r.messageId);
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await tick();
      running--;
      finished.push(r.messageId);
    });
    expect(result.batchItemFailures).toEqual([]);
    for (const group of [['a1', 'a2', 'a3'], ['b1', 'b2']]) {
      expect(finished.filter((id) => group.includes(id))).toEqual(group);
      expect(started.filter((id) => group.includes(id))).toEqual(group);
    }
    expect(mostAtOnce).toBe(3); // one record of each of the three groups at a time
  });

  it.each([
    ['the first record of a group fails: the whole group comes back', ['a1'], ['a1', 'a2', 'a3']],
    ['a middle record fails: it and the later ones come back', ['a2'], ['a2', 'a3']],
    ['failures in two groups', ['a3', 'b1'], ['b1', 'a3', 'b2']],
    ['nothing fails', [], []],
  ])('%s', async (_name, failing, expected) => {
    const batch = [record('a1', 'A'), record('b1', 'B'), record('a2', 'A'), record('c1', 'C'), record('a3', 'A'), record('b2', 'B')];
    const processed: string[] = [];
    const result = await processFifoBatch(batch, async (r) => {
      processed.push(r.messageId);
      if (failing.includes(r.messageId)) throw new Error('retry me');
    });
    // Reported in the batch's order, and nothing after a failure in its group was tried.
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(batch.map((r) => r.messageId).filter((id) => expected.includes(id)));
    expect(processed.filter((id) => expected.includes(id) && !failing.includes(id))).toEqual([]);
    expect(processed).toContain('c1');
  });
});
