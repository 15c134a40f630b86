import type { LocalStack } from '../infra/local/stack.ts';
import { startTestStack } from '../test/support/stack.ts';
import { benchConfig, postGeneric } from './generic-webhook.ts';
import { percentile, round } from './stats.ts';

/**
 * Webhook answer time while sync drains a backlog (the local stack runs the HTTP front and the
 * sync worker in one process, as `npm start` does). Interleaved rounds: A = the front with sync
 * idle (the baseline), B = the same probes while sync works through a backlog of new
 * reservations. Minut only, its sandbox unlimited, so sync is as busy as it can be.
 */

export interface LatencyFigures {
  rounds: number;
  backlog: number;
  idle: { p50: number; p99: number; samples: number };
  draining: { p50: number; p99: number; samples: number };
  drainSeconds: number;
}

function send(stack: LocalStack, id: string): Promise<number> {
  return postGeneric(stack, { id, guest: { firstName: 'Bench', lastName: id } });
}

/** One probe every `everyMs` until `until()` says stop; answer times in ms. */
async function probe(stack: LocalStack, prefix: string, everyMs: number, until: () => boolean, max = Number.POSITIVE_INFINITY): Promise<number[]> {
  const times: number[] = [];
  while (!until() && times.length < max) {
    times.push(await send(stack, `${prefix}-${times.length}`));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return times;
}

export async function measureWebhookLatency(options: { rounds: number; backlog: number }): Promise<LatencyFigures> {
  const stack = await startTestStack({
    configPath: benchConfig(),
    minut: { rateLimit: null },
    sweepIntervalMs: null,
  });
  const idle: number[] = [];
  const draining: number[] = [];
  let drainMs = 0;
  try {
    for (let round = 0; round < options.rounds; round++) {
      // A: sync idle.
      await stack.drain(120_000);
      idle.push(...(await probe(stack, `idle-${round}`, 20, () => false, 50)));
      await stack.drain(120_000);
      // B: a backlog lands (20 senders at once), then probe while sync drains it.
      const started = Date.now();
      const ids = Array.from({ length: options.backlog }, (_, i) => `backlog-${round}-${i}`);
      for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id) => send(stack, id)));
      // Probing until every backlog guest is in Minut (the probes themselves keep the queue busy).
      const prefix = `Bench backlog-${round}-`;
      const done = () => stack.sandbox.minut.guests('home_demo_city').filter((g) => g.name.startsWith(prefix)).length >= options.backlog;
      const deadline = Date.now() + 600_000;
      draining.push(...(await probe(stack, `busy-${round}`, 20, () => done() || Date.now() > deadline)));
      if (!done()) throw new Error(`the backlog of round ${round} did not drain in 10 minutes`);
      drainMs += Date.now() - started;
    }
  } finally {
    await stack.stop();
  }
  return {
    rounds: options.rounds,
    backlog: options.backlog,
    idle: summarise(idle),
    draining: summarise(draining),
    drainSeconds: Math.round(drainMs / options.rounds / 100) / 10,
  };
}

function summarise(times: number[]): { p50: number; p99: number; samples: number } {
  return { p50: round(percentile(times, 0.5), 1), p99: round(percentile(times, 0.99), 1), samples: times.length };
}
