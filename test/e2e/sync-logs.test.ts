import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localContext } from '../../infra/local/lambda-context.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { captureOutput } from '../support/capture-output.ts';
import { hostawayRecord, startMinutOnlyStack, syncInstance } from '../support/sync.ts';

// The production level, set before the Powertools logger is created.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

/**
 * Logs are billed by the byte: at INFO, a sync invocation writes one `batch synced` line that
 * counts its messages, failures and target actions, not a line per message (each message's
 * steps are in the trace; the per-message line is DEBUG).
 */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startMinutOnlyStack();
});
afterAll(async () => {
  await stack?.stop();
});

interface LogLine {
  level?: string;
  message?: string;
  messages?: number;
  failed?: number;
  actions?: Record<string, number>;
}

describe('what a sync invocation logs at INFO', () => {
  it('one batch line with its counts, and no line per message', async () => {
    const handler = syncInstance(stack, 'logs');
    const records = [781001, 781002, 781003].map((id) => hostawayRecord(stack, id, { guestName: `Logged ${id}` }));
    const output = captureOutput();
    let failures: number;
    try {
      failures = (await handler({ Records: records }, localContext('logs', 60_000))).batchItemFailures.length;
    } finally {
      output.stop();
    }
    expect(failures).toBe(0);
    const lines = output
      .text()
      .split('\n')
      .filter((line) => line.startsWith('{"level"'))
      .map((line) => JSON.parse(line) as LogLine);
    const batches = lines.filter((line) => line.message === 'batch synced');
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ level: 'INFO', messages: 3, failed: 0, actions: { created: 3 }, function_name: 'logs', cold_start: expect.any(Boolean), function_request_id: expect.any(String) });
    // Keys the same on every line of a log group are not repeated on each (billed by the byte).
    for (const key of ['function_arn', 'function_memory_size', 'sampling_rate']) expect(batches[0]).not.toHaveProperty(key);
    expect(Buffer.byteLength(JSON.stringify(batches[0]))).toBeLessThan(300);
    expect(lines.filter((line) => line.message === 'reservation synced')).toEqual([]);
  });
});
