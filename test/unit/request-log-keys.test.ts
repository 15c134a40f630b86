import { afterEach, describe, expect, it } from 'vitest';
import { logger, runLocalInvocation, withRequestLogKeys } from '../../functions/core/powertools.ts';
import { captureOutput } from '../support/capture-output.ts';

/**
 * Ingest's per-request log keys (`withRequestLogKeys`): a request that runs alone keeps them
 * without an AsyncLocalStorage scope (its promise hooks cost a cold start about 4 ms), and
 * requests side by side, or beside the local stack's other functions, still each get their own.
 */
// The tests' log level is WARN (vitest.config.ts).
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

let output: ReturnType<typeof captureOutput> | undefined;
afterEach(() => output?.stop());

/** Each captured line's message and delivery id (undefined when the line has none). */
function linesSeen(): { message: string; deliveryId?: string }[] {
  return output!
    .text()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { message: string; deliveryId?: string })
    .map(({ message, deliveryId }) => ({ message, ...(deliveryId !== undefined ? { deliveryId } : {}) }));
}

describe("ingest's per-request log keys", () => {
  it('a request alone puts its keys on each of its lines and leaves none behind', async () => {
    output = captureOutput();
    for (const deliveryId of ['d-1', 'd-2']) {
      await withRequestLogKeys({ deliveryId }, async () => {
        logger.warn(`${deliveryId} starts`);
        await tick();
        logger.warn(`${deliveryId} ends`);
      });
      logger.warn(`after ${deliveryId}`);
    }
    expect(linesSeen()).toEqual([
      { message: 'd-1 starts', deliveryId: 'd-1' },
      { message: 'd-1 ends', deliveryId: 'd-1' },
      { message: 'after d-1' },
      { message: 'd-2 starts', deliveryId: 'd-2' },
      { message: 'd-2 ends', deliveryId: 'd-2' },
      { message: 'after d-2' },
    ]);
  });

  it('requests side by side each keep their own keys, also after the first one ends', async () => {
    output = captureOutput();
    let finishFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (finishFirst = resolve));
    let secondStarted!: () => void;
    const secondHasStarted = new Promise<void>((resolve) => (secondStarted = resolve));
    const first = withRequestLogKeys({ deliveryId: 'first' }, async () => {
      logger.warn('first starts');
      await secondHasStarted;
      logger.warn('first, with the second in flight');
      await firstMayFinish;
      logger.warn('first ends');
    });
    const second = withRequestLogKeys({ deliveryId: 'second' }, async () => {
      logger.warn('second starts');
      secondStarted();
      await tick();
      finishFirst();
      await first;
      logger.warn('second, after the first ended');
      // A third request that starts now runs alone again, beside the second.
      await withRequestLogKeys({ deliveryId: 'third' }, async () => {
        logger.warn('third');
        await tick();
      });
      logger.warn('second ends');
    });
    await Promise.all([first, second]);
    logger.warn('after both');
    expect(linesSeen()).toEqual([
      { message: 'first starts', deliveryId: 'first' },
      { message: 'second starts', deliveryId: 'second' },
      { message: 'first, with the second in flight', deliveryId: 'first' },
      { message: 'first ends', deliveryId: 'first' },
      { message: 'second, after the first ended', deliveryId: 'second' },
      { message: 'third', deliveryId: 'third' },
      { message: 'second ends', deliveryId: 'second' },
      { message: 'after both' },
    ]);
  });

  it("another function's invocation in the same process never takes a lone request's keys", async () => {
    output = captureOutput();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const request = withRequestLogKeys({ deliveryId: 'alone' }, async () => {
      await released;
      logger.warn('request ends');
    });
    await runLocalInvocation({ functionName: 'guest-sync-sync-1', awsRequestId: 'r-1', coldStart: false }, async () => {
      logger.warn('a sync batch line');
      // And a request served inside the local stack gets a scope of its own.
      await withRequestLogKeys({ deliveryId: 'local' }, async () => logger.warn('local request'));
    });
    release();
    await request;
    expect(linesSeen()).toEqual([
      { message: 'a sync batch line' },
      { message: 'local request', deliveryId: 'local' },
      { message: 'request ends', deliveryId: 'alone' },
    ]);
  });
});
