import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbStore } from '../../functions/core/dynamodb-store.ts';
import { JOIN_WAIT_MS, LIMITED_RECOUNT_MS, RECOUNT_MS, RENEW_MS, RateShare } from '../../functions/core/rate-share.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { hostawayDelivery, SEASIDE_HOME, SEASIDE_KASIFY_PROPERTY } from '../support/hostaway.ts';
import { sendHostaway, startTestStack } from '../support/stack.ts';

/**
 * A vendor's rate limit is the account's: five sync workers (as many as the Lambda event
 * source runs at once) together stay under the limits the sandboxes enforce, whatever each
 * would do alone (each configured rate is the account's; five workers each pacing at it would
 * send five times as much).
 */
const WORKERS = 5;
const RESERVATIONS = 30;
let stack: LocalStack;
beforeAll(async () => {
  // Kasify enforces 100/min and guest-sync is configured for 1.5/s (90/min); HostelMate 120/min
  // against 1.8/s; Minut 5/s and 120/min against 1.8/s: five workers at the full configured rate would break all three.
  stack = await startTestStack({ syncWorkers: WORKERS, sweepIntervalMs: null, minut: { rateLimit: { perSecond: 5, perMinute: 120 } } });
});
afterAll(async () => {
  await stack?.stop();
});

describe(`${WORKERS} concurrent sync workers`, () => {
  it('sync a backlog into every target without a single 429, each guest once', async () => {
    for (let i = 0; i < RESERVATIONS; i++) {
      const id = 870000 + i;
      const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id, guestName: `Shared Rate ${id}`, guestFirstName: 'Shared Rate', guestLastName: String(id), guestEmail: `shared.rate.${id}@example.com` }));
      expect(reply.status).toBe(202);
    }
    await stack.drain(240_000);

    const minut = stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Shared Rate '));
    const kasify = stack.sandbox.kasify.allBookings(SEASIDE_KASIFY_PROPERTY).filter((b) => b.channel_id?.startsWith('hostaway-demo:870'));
    const hostelmate = stack.sandbox.hostelmate.guests().filter((g) => g.email.startsWith('shared.rate.'));
    for (const records of [minut.map((g) => g.name), kasify.map((b) => b.channel_id), hostelmate.map((g) => g.email)]) {
      expect(records).toHaveLength(RESERVATIONS);
      expect(new Set(records).size).toBe(RESERVATIONS);
    }
    const logs = { minut: stack.sandbox.minut.requestLog(), kasify: stack.sandbox.kasify.requestLog(), hostelmate: stack.sandbox.hostelmate.requestLog(), recepai: stack.sandbox.recepai.requestLog() };
    for (const [target, log] of Object.entries(logs)) {
      // On a failure, the calls of the second before each 429 (time after the first call, worker, route) say which workers bunched.
      const first = log[0]?.at ?? 0;
      const around = log.filter((e) => e.status === 429).map((limited) => log.filter((e) => e.at > limited.at - 1_000 && e.at <= limited.at).map((e) => `${e.at - first} ms ${e.userAgent ?? '?'} ${e.route} ${e.status}`));
      expect({ target, rateLimited: around.length, around }).toEqual({ target, rateLimited: 0, around: [] });
    }
    // The work really was spread over the workers (each names itself in its User-Agent).
    expect(new Set(logs.kasify.map((e) => e.userAgent)).size).toBeGreaterThan(1);
  }, 300_000);

  it('a worker that gave its share to a lane looks before its next call: while the lane is busy it is told the join wait, and hands that work off too rather than wait to be admitted', async () => {
    const { clock, share } = sharesOf('test-account-release', 7_000_000);
    const main = share('main');
    const lane = share('lane');
    // The main worker calls alone, then hands the account's work to the lane and gives its share back.
    expect((await main.share()).fraction).toBe(1);
    await main.release();
    // The lane calls at the whole rate for a renewal period: busy.
    expect((await lane.share()).fraction).toBe(1);
    for (let i = 0; i < 2 * (RENEW_MS / 1000); i++) lane.noteTurn(true);
    clock.now += RENEW_MS;
    expect((await lane.share()).fraction).toBe(1);
    // The main worker's next call would wait to be admitted behind the busy lane: it says so first.
    expect(await main.joinWaitMs()).toBe(JOIN_WAIT_MS);
  });

  it('a worker pacing at the whole rate claims it: a worker admitted after it takes only what that leaves until the first has counted it, so together they never use more than the rate', async () => {
    const { clock, share } = sharesOf('test-account-joiner', 9_000_000);
    const first = share('lane-1');
    const second = share('lane-2');
    // The first is alone and starts pacing (a call waited for its turn): it counts at once, alone still, and claims the whole rate.
    expect((await first.share()).fraction).toBe(1);
    first.noteTurn(true);
    expect((await first.share()).fraction).toBe(1);
    // The second joins a moment later and is admitted at once (the first was not busy), but the first's claim leaves it nothing yet: it looks again soon.
    clock.now += 500;
    expect(await second.share()).toEqual({ fraction: 0, waitMs: LIMITED_RECOUNT_MS });
    // A main worker in its place would hand the work to the lane rather than hold its batch.
    expect(await second.joinWaitMs()).toBe(RECOUNT_MS);
    // The first keeps pacing: within RECOUNT_MS (not a whole renewal period) it counts the second, and claims half.
    clock.now += RECOUNT_MS;
    first.noteTurn(true);
    expect((await first.share()).fraction).toBe(0.5);
    // The second's next look finds the half the first let go of.
    expect((await second.share()).fraction).toBe(0.5);
    expect(await second.joinWaitMs()).toBe(0);
  });

  it('a worker that calls now and then claims its part for the turn of its call only: a joiner waits that long at most', async () => {
    const { clock, share } = sharesOf('test-account-quiet', 17_000_000);
    const quiet = share('quiet');
    const joiner = share('joiner');
    // One call, no wait for a turn: ordinary traffic.
    expect((await quiet.share()).fraction).toBe(1);
    quiet.noteTurn(false);
    clock.now += 200;
    expect(await joiner.share()).toEqual({ fraction: 0, waitMs: LIMITED_RECOUNT_MS });
    // A turn at 2 calls a second and the margin later, the quiet worker's claim is over.
    clock.now += 1_000;
    expect((await joiner.share()).fraction).toBe(0.5);
  });

  it('two workers that join at once each count the other: together they never start with more than the rate', async () => {
    const { share, requests } = sharesOf('test-account-together', 15_000_000);
    const [a, b] = await Promise.all([share('together-a').share(), share('together-b').share()]);
    expect(a.fraction + b.fraction).toBeLessThanOrEqual(1);
    // Each wrote its lease before it counted (announce, then look).
    expect(requests.indexOf('UpdateItemCommand')).toBeLessThan(requests.indexOf('QueryCommand'));
  });

  it('a worker that holds no lease (its first call, or after it gave its share back) takes one in a single write; a live lease is renewed in one', async () => {
    const { clock, share, requests } = sharesOf('test-account-requests', 11_000_000);
    const worker = share('solo');
    expect((await worker.share()).fraction).toBe(1);
    // New: the lease, the count, the admission (nobody to wait for) with the part it takes, and a second look.
    expect(requests.splice(0)).toEqual(['UpdateItemCommand', 'QueryCommand', 'UpdateItemCommand', 'QueryCommand']);
    clock.now += RENEW_MS;
    expect((await worker.share()).fraction).toBe(1);
    expect(requests.splice(0)).toEqual(['UpdateItemCommand', 'QueryCommand']);
    await worker.release();
    requests.splice(0);
    expect((await worker.share()).fraction).toBe(1);
    expect(requests.splice(0)).toEqual(['UpdateItemCommand', 'QueryCommand', 'UpdateItemCommand', 'QueryCommand']);
  });

  it('a claim from a worker whose clock runs far ahead holds nobody back for longer than a true one', async () => {
    const { clock, share, store } = sharesOf('test-account-skew', 23_000_000);
    const ahead = new RateShare({ key: 'test-account-skew', worker: 'ahead', store, now: () => clock.now + 60_000, requestsPerSecond: 2 });
    expect((await ahead.share()).fraction).toBe(1);
    // It paces: by its clock its claim on the whole rate binds for 3 s; by the others', for 63 s.
    ahead.noteTurn(true);
    expect((await ahead.share()).fraction).toBe(1);
    expect((await share('behind').share()).fraction).toBe(0.5);
  });

  it('five workers that each counted a different number of others take no more than the rate together, and settle on a fifth each', async () => {
    // The worst order: each joins (lease, count) after the one before, so they count 1, 2, 3, 4
    // and 5, and none has said its part yet when the next counts. Without claims they would take
    // 1 + 1/2 + 1/3 + 1/4 + 1/5 of the rate.
    const { clock, share, store } = sharesOf('test-account-five', 19_000_000);
    let joined = 0;
    let counted!: () => void;
    const allCounted = new Promise<void>((resolve) => (counted = resolve));
    let previous: Promise<unknown> = Promise.resolve();
    const gated: typeof store = Object.create(store);
    gated.renewRateLease = (...args) => {
      const renewal = previous.then(() => store.renewRateLease(...args));
      previous = renewal.catch(() => undefined);
      return renewal.finally(() => ++joined === 5 && counted());
    };
    gated.updateRateLease = async (...args) => {
      await allCounted;
      return store.updateRateLease(...args);
    };
    const workers = ['w1', 'w2', 'w3', 'w4', 'w5'].map((worker) => new RateShare({ key: 'test-account-five', worker, store: gated, now: () => clock.now, requestsPerSecond: 2 }));
    const first = await Promise.all(workers.map((worker) => worker.share()));
    expect(first.reduce((sum, { fraction }) => sum + fraction, 0)).toBeLessThanOrEqual(1 + 1e-9);
    // Those held back look again; the claims of the ones that took more than a fifth have lapsed or been lowered.
    clock.now += 2_000;
    const settled = [];
    for (const worker of workers) settled.push(await worker.share());
    expect(settled.map(({ fraction }) => fraction)).toEqual([0.2, 0.2, 0.2, 0.2, 0.2]);
  });
});

/** Workers' shares of one test account (2 calls a second) on the stack's table, on a clock the test moves. */
function sharesOf(key: string, start: number): { clock: { now: number }; share: (worker: string) => RateShare; requests: string[]; store: DynamoDbStore } {
  const clock = { now: start };
  // The DynamoDB requests the shares make, by command, in order.
  const requests: string[] = [];
  const client = new DynamoDBClient({ endpoint: stack.env.AWS_ENDPOINT_URL_DYNAMODB, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  client.middlewareStack.add((next, context) => (args) => (requests.push(context.commandName ?? '?'), next(args)), { step: 'initialize' });
  const store = new DynamoDbStore(client, stack.tableName);
  return { clock, requests, store, share: (worker) => new RateShare({ key, worker, store, now: () => clock.now, requestsPerSecond: 2 }) };
}
