import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { SEASIDE_HOME } from '../support/hostaway.ts';
import { storeFor } from '../support/stack.ts';
import { hostawayRecord, startMinutOnlyStack, syncInstance } from '../support/sync.ts';

/**
 * Two copies of a reservation with the same version and other content (a PMS whose version is
 * a time to the second, edited twice in that second): the one ingest received later wins, even
 * when it reaches sync first, as when the earlier copy was parked in a burst and the later one
 * went to the queue directly.
 */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startMinutOnlyStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** The SQS record of reservation `id` with this guest name, one version for all, as ingest received it at `receivedAt`. */
function copy(id: number, guestName: string, receivedAt: number): SQSRecord {
  const record = hostawayRecord(stack, id, { guestName, updatedOn: '2026-11-30 10:00:00' });
  return { ...record, body: JSON.stringify({ ...(JSON.parse(record.body) as object), receivedAt }) };
}

describe('the same version with other content', () => {
  it('keeps the copy received later when the earlier one arrives last, and takes a copy received later still', async () => {
    const sync = syncInstance(stack, 'ties');
    const id = 790001;
    const at = Date.now();
    const names = () => stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Tie ')).map((g) => g.name);
    const run = async (record: SQSRecord) => expect((await sync({ Records: [record] }, localContext('ties', 60_000))).batchItemFailures).toEqual([]);

    await run(copy(id, 'Tie Later', at + 1_000));
    await run(copy(id, 'Tie Earlier', at));
    expect(names()).toEqual(['Tie Later']);

    await run(copy(id, 'Tie Latest', at + 2_000));
    expect(names()).toEqual(['Tie Latest']);

    const trace = await storeFor(stack).listTrace({ connectionId: 'hostaway-demo', reservationId: String(id) });
    expect(trace.map((step) => step.snapshot)).toEqual(['created', 'older', 'tie_replaced']);
  });
});
