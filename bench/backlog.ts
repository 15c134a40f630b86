import type { TargetName } from '../functions/core/config.ts';
import type { RequestLogEntry } from '../infra/local/sandboxes/traffic.ts';
import { exampleConfigWith } from '../test/support/config.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../test/support/hostaway.ts';
import { sendHostaway, startTestStack } from '../test/support/stack.ts';
import { median, peakInWindow, round } from './stats.ts';

/**
 * A backlog of new reservations for a property routed to every target, drained by five
 * concurrent sync workers (as many as the Lambda event source runs at once) against the limits
 * the sandboxes enforce. Time is scaled down sixfold, ratios kept: each sandbox's rate window
 * is six times shorter with the same limit (Kasify: 100 per 10 s), and guest-sync's configured
 * rate (the account's budget) is six times higher. Per target: the share of its budget used while it had work
 * (calls / (configured rate x time from its first to its last call)) and the 429s it got.
 */
const SCALE = 6;
/**
 * Configured budget (requests/s, as in the example config), before scaling, and the rolling windows
 * each sandbox enforces: the vendor's documented limits, windows scaled, limits kept.
 */
const LIMITS: Record<Exclude<TargetName, 'recepai'>, { configured: number; windows: { seconds: number; limit: number }[] }> = {
  minut: { configured: 1.8, windows: [{ seconds: 1, limit: 5 }, { seconds: 60, limit: 120 }] },
  kasify: { configured: 1.5, windows: [{ seconds: 60, limit: 100 }] },
  hostelmate: { configured: 1.8, windows: [{ seconds: 60, limit: 120 }] },
};

/** The limit LIMITS gives `name` over a window of `seconds`, for the sandbox's options. */
function limitOf(name: keyof typeof LIMITS, seconds: number): number {
  const window = LIMITS[name].windows.find((w) => w.seconds === seconds);
  if (!window) throw new Error(`bench: LIMITS.${name} has no ${seconds} s window`);
  return window.limit;
}

export interface BacklogFigures {
  rounds: number;
  reservations: number;
  workers: number;
  drainSeconds: number;
  byTarget: Record<string, { calls: number; budgetUsed: number; rateLimited: number; peaks: Peak[] }>;
}

/**
 * The fullest each of the sandbox's rolling windows got (calls it let through, worst round), against
 * its limit: how close the workers came to a 429, which the count of 429s alone shows only when one happens.
 */
export interface Peak {
  /** The vendor's window, before time scaling. */
  seconds: number;
  limit: number;
  peak: number;
}

export async function measureBacklog(options: { rounds: number; reservations: number; workers: number }): Promise<BacklogFigures> {
  const used: Record<string, number[]> = {};
  const limited: Record<string, number> = {};
  const calls: Record<string, number> = {};
  const peaks: Record<string, Peak[]> = {};
  const drains: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const configPath = exampleConfigWith((config) => {
      // RecepAI only acts on guests in the house: a backlog of future stays gives it nothing to do.
      config.connections['hostaway-demo'].properties['219407'].targets = { ...config.connections['hostaway-demo'].properties['219407'].targets };
      delete config.connections['hostaway-demo'].properties['219407'].targets.recepai;
      for (const [name, limit] of Object.entries(LIMITS)) {
        config.targets[name].requestsPerSecond = limit.configured * SCALE;
        if (config.targets[name].burst !== undefined) config.targets[name].burst = 1;
      }
    });
    const stack = await startTestStack({
      configPath,
      sweepIntervalMs: 1_000,
      syncWorkers: options.workers,
      // Each vendor's documented limits (LIMITS), Minut's two included.
      minut: { rateLimit: { perSecond: limitOf('minut', 1), perMinute: limitOf('minut', 60) }, timeScale: SCALE },
      kasify: { perMinute: limitOf('kasify', 60), timeScale: SCALE },
      hostelmate: { rateLimit: { perMinute: limitOf('hostelmate', 60) }, timeScale: SCALE },
    });
    try {
      const started = Date.now();
      const ids = Array.from({ length: options.reservations }, (_, i) => 890000 + round * 10_000 + i);
      for (let i = 0; i < ids.length; i += 20) {
        await Promise.all(
          ids.slice(i, i + 20).map(async (id) => {
            const reply = await sendHostaway(stack, hostawayDelivery('reservation.created', { id, guestName: `Backlog ${id}`, guestFirstName: 'Backlog', guestLastName: String(id), guestEmail: `backlog.${id}@example.com` }));
            if (reply.status !== 202) throw new Error(`bench: backlog webhook answered ${reply.status}`);
          }),
        );
      }
      const done = () =>
        stack.sandbox.minut.guests(SEASIDE_HOME).filter((g) => g.name.startsWith('Backlog ')).length >= options.reservations &&
        stack.sandbox.hostelmate.guests().filter((g) => g.email.startsWith('backlog.')).length >= options.reservations &&
        stack.sandbox.kasify.requestLog().filter((e) => e.method === 'POST' && e.status === 201).length >= options.reservations;
      const deadline = Date.now() + 600_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error('bench: the backlog did not drain in 10 minutes');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      drains.push((Date.now() - started) / 1000);
      const logs: Record<string, RequestLogEntry[]> = { minut: stack.sandbox.minut.requestLog(), kasify: stack.sandbox.kasify.requestLog(), hostelmate: stack.sandbox.hostelmate.requestLog() };
      for (const [name, log] of Object.entries(logs)) {
        const budget = LIMITS[name as keyof typeof LIMITS].configured * SCALE;
        const span = (log.at(-1)!.at - log[0]!.at) / 1000;
        // n calls at the budget take (n - 1) / rate seconds from the first to the last.
        (used[name] ??= []).push(Math.min(1, (log.length - 1) / (budget * span)));
        limited[name] = (limited[name] ?? 0) + log.filter((e) => e.status === 429).length;
        calls[name] = (calls[name] ?? 0) + log.length;
        const admitted = log.filter((e) => e.status !== 429).map((e) => e.at);
        peaks[name] = LIMITS[name as keyof typeof LIMITS].windows.map((w, i) => ({ ...w, peak: Math.max(peaks[name]?.[i]?.peak ?? 0, peakInWindow(admitted, (w.seconds * 1000) / SCALE)) }));
      }
    } finally {
      await stack.stop();
    }
  }
  const byTarget: BacklogFigures['byTarget'] = {};
  for (const name of Object.keys(LIMITS)) {
    byTarget[name] = { calls: Math.round(calls[name]! / options.rounds), budgetUsed: round(median(used[name]!) * 100, 1), rateLimited: limited[name]!, peaks: peaks[name]! };
  }
  return { rounds: options.rounds, reservations: options.reservations, workers: options.workers, drainSeconds: round(median(drains), 1), byTarget };
}
