import type { LocalStack } from '../infra/local/stack.ts';
import { startTestStack } from '../test/support/stack.ts';
import { benchConfig, postGeneric } from './generic-webhook.ts';
import { percentile } from './stats.ts';

/**
 * Fairness: one connection replays a burst (a PMS resending a day of events) while another
 * connection's events keep arriving, one every 250 ms. Figure: how long the other
 * connection's events take from webhook to guest in Minut, during the burst, against the same
 * events with no burst (the baseline, in the same run). Minut's sandbox does not limit.
 */
export interface BurstFigures {
  burst: number;
  probes: number;
  idle: { p50: number; p99: number };
  duringBurst: { p50: number; p99: number };
  burstSeconds: number;
}


export async function measureBurst(options: { burst: number; probes: number }): Promise<BurstFigures> {
  const stack = await startTestStack({ configPath: benchConfig(), minut: { rateLimit: null }, sweepIntervalMs: null });
  try {
    const idle = await probe(stack, 'idle', options.probes);
    const started = Date.now();
    let sent = false;
    const burst = (async () => {
      const ids = Array.from({ length: options.burst }, (_, i) => `burst-${i}`);
      for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id) => postGeneric(stack, { id, guest: { firstName: 'Bench', lastName: id } })));
      sent = true;
    })();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the burst is under way
    const during = await probe(stack, 'busy', options.probes);
    await burst;
    const deadline = Date.now() + 900_000;
    while (!sent || stack.sandbox.minut.guests('home_demo_city').filter((g) => g.name.startsWith('Bench burst-')).length < options.burst) {
      if (Date.now() > deadline) throw new Error('bench: the burst did not drain in 15 minutes');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { burst: options.burst, probes: options.probes, idle: summarise(idle), duringBurst: summarise(during), burstSeconds: Math.round((Date.now() - started) / 100) / 10 };
  } finally {
    await stack.stop();
  }
}

/** The other connection's events, one every 250 ms; each one's time from webhook to guest in Minut. */
async function probe(stack: LocalStack, prefix: string, count: number): Promise<number[]> {
  const pending = Array.from({ length: count }, async (_, i) => {
    await new Promise((resolve) => setTimeout(resolve, i * 250));
    const id = `${prefix}-${i}`;
    const started = performance.now();
    await postGeneric(stack, { id, propertyId: 'other-flat', guest: { firstName: 'Bench', lastName: id } }, 'generic-other');
    const deadline = Date.now() + 900_000;
    while (!stack.sandbox.minut.guests('home_demo_seaside').some((g) => g.name === `Bench ${id}`)) {
      if (Date.now() > deadline) throw new Error(`bench: probe ${id} never synced`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return performance.now() - started;
  });
  return Promise.all(pending);
}

function summarise(times: number[]): { p50: number; p99: number } {
  return { p50: Math.round(percentile(times, 0.5)), p99: Math.round(percentile(times, 0.99)) };
}
