import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signStandardWebhook } from '../functions/sources/standard-webhooks.ts';
import { startLocalStack, type LocalStack } from '../infra/local/stack.ts';

/**
 * Webhook answer time while sync drains a backlog (the local stack runs the HTTP front and the
 * sync worker in one process, as `npm start` does). Interleaved rounds: A = the front with sync
 * idle (the baseline), B = the same probes while sync works through a backlog of new
 * reservations. Minut only, its sandbox unlimited, so sync is as busy as it can be.
 */

export const SECRET = 'whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5LTMyYnl0ZXM=';

export interface LatencyFigures {
  rounds: number;
  backlog: number;
  idle: { p50: number; p99: number; samples: number };
  draining: { p50: number; p99: number; samples: number };
  drainSeconds: number;
}

/**
 * One generic connection, one property, routed to Minut only (its sandbox limits set per stack);
 * a second connection (`generic-other`, same secret, its own property) for the burst figure.
 */
export function benchConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'guest-sync-bench-'));
  const path = join(dir, 'config.json');
  writeFileSync(
    path,
    JSON.stringify({
      connections: {
        'generic-demo': {
          pms: 'generic',
          secret: 'generic-demo',
          properties: { 'bench-flat': { timeZone: 'Europe/Berlin', targets: { minut: { homeId: 'home_demo_city' } } } },
        },
        'generic-other': {
          pms: 'generic',
          secret: 'generic-demo',
          properties: { 'other-flat': { timeZone: 'Europe/Berlin', targets: { minut: { homeId: 'home_demo_seaside' } } } },
        },
      },
      targets: { minut: { baseUrl: 'http://127.0.0.1:4010/minut/v8', credentials: 'minut', requestsPerSecond: 1000 } },
    }),
  );
  return path;
}

let sequence = 0;
async function send(stack: LocalStack, id: string): Promise<number> {
  const body = JSON.stringify({
    type: 'reservation.upserted',
    reservation: { id, propertyId: 'bench-flat', status: 'confirmed', checkInDate: '2027-03-01', checkOutDate: '2027-03-04', version: ++sequence, guest: { firstName: 'Bench', lastName: id } },
  });
  const headers = { 'content-type': 'application/json', ...signStandardWebhook(SECRET, `bench-${sequence}`, Math.floor(Date.now() / 1000), body) };
  const started = performance.now();
  const response = await fetch(`${stack.urls.webhooks}/webhooks/generic-demo`, { method: 'POST', headers, body });
  await response.arrayBuffer();
  if (response.status !== 202) throw new Error(`bench webhook answered ${response.status}`);
  return performance.now() - started;
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
  const stack = await startLocalStack({
    ports: { http: 0, sandbox: 0, sqs: 0, dynamodb: 0 },
    dataDir: null,
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
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN) * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), samples: sorted.length };
}
