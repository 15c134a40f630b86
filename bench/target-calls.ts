import type { TargetName } from '../functions/core/config.ts';
import { fingerprint } from '../functions/core/hash.ts';
import type { Reservation } from '../functions/core/reservation.ts';
import { sources } from '../functions/sources/registry.ts';
import { createTargets } from '../functions/targets/registry.ts';
import type { RequestLogEntry } from '../infra/local/sandboxes/traffic.ts';
import type { LocalStack } from '../infra/local/stack.ts';
import { exampleConfigWith } from '../test/support/config.ts';
import { hostawayDelivery } from '../test/support/hostaway.ts';
import { sendHostaway, startTestStack } from '../test/support/stack.ts';
import { round } from './stats.ts';

/**
 * Target calls per event on a mixed trace, by kind (writes, look-ups, token grants), against an
 * oracle: the fewest calls any level-triggered sync could make for the same deliveries. The
 * trace, per reservation: a create, the same delivery again, a no-op update (new version, same
 * content), a real update (a later departure), an older version arriving after it (a changed
 * phone), and for every other reservation a cancellation. Hostaway listing 219407 is routed to
 * all four targets; the sandboxes do not limit, so only the calls themselves are counted.
 *
 * Oracle per target: one write each time the record the target should hold changes along the
 * snapshots sync stores (an older one is never stored); HostelMate holds two records (the
 * booking's dates and room, and its guest), each a write of its own when it changes; one token
 * grant per run for Minut (its token lives an hour); no look-ups.
 */
export interface CallFigures {
  events: number;
  byTarget: Record<string, { writes: number; lookups: number; tokens: number; oracle: number; ratio: number }>;
  total: { calls: number; oracle: number; ratio: number };
}

const TARGETS: TargetName[] = ['minut', 'recepai', 'kasify', 'hostelmate'];

export async function measureTargetCalls(options: { reservations: number }): Promise<CallFigures> {
  // The demo property's routes as they are, at rates that never bind (calls are counted, not timed).
  const configPath = exampleConfigWith((config) => {
    for (const target of Object.values(config.targets as Record<string, { requestsPerSecond?: number; burst?: number }>)) {
      target.requestsPerSecond = 200;
      if (target.burst !== undefined) target.burst = 20;
    }
  });
  const stack = await startTestStack({
    configPath,
    sweepIntervalMs: null,
    minut: { rateLimit: null },
    recepai: { rateLimit: null },
    kasify: { perMinute: null },
    hostelmate: { rateLimit: null },
  });
  try {
    const deliveries: Record<string, unknown>[] = [];
    const base = Date.parse('2026-06-01T10:00:00Z');
    const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString().replace('T', ' ').slice(0, 19);
    for (let i = 0; i < options.reservations; i++) {
      const id = 880000 + i;
      const guest = { id, guestName: `Trace ${id}`, guestFirstName: 'Trace', guestLastName: String(id), guestEmail: `trace.${id}@example.com`, phone: '+46701234567' };
      const created = hostawayDelivery('reservation.created', { ...guest, updatedOn: at(i * 10) });
      deliveries.push(created, created); // the PMS retries the same delivery
      deliveries.push(hostawayDelivery('reservation.updated', { ...guest, updatedOn: at(i * 10 + 1) })); // nothing changed
      deliveries.push(hostawayDelivery('reservation.updated', { ...guest, status: 'modified', departureDate: '2026-07-15', updatedOn: at(i * 10 + 3) }));
      deliveries.push(hostawayDelivery('reservation.updated', { ...guest, phone: '+46709999999', updatedOn: at(i * 10 + 2) })); // older, late
      if (i % 2 === 0) deliveries.push(hostawayDelivery('reservation.updated', { ...guest, status: 'cancelled', departureDate: '2026-07-15', updatedOn: at(i * 10 + 4) }));
    }
    for (const delivery of deliveries) {
      const reply = await sendHostaway(stack, delivery);
      if (reply.status !== 202) throw new Error(`bench: a trace delivery answered ${reply.status}`);
    }
    await stack.drain(300_000);

    const oracle = await oracleCalls(stack.config, deliveries);
    const logs: Record<TargetName, RequestLogEntry[]> = {
      minut: stack.sandbox.minut.requestLog(),
      recepai: stack.sandbox.recepai.requestLog(),
      kasify: stack.sandbox.kasify.requestLog(),
      hostelmate: stack.sandbox.hostelmate.requestLog(),
    };
    const byTarget: CallFigures['byTarget'] = {};
    for (const target of TARGETS) {
      const log = logs[target].filter((e) => e.status < 400 || e.status === 404 || e.status === 409);
      const tokens = log.filter((e) => e.path.endsWith('/oauth/token')).length;
      const lookups = log.filter((e) => e.method === 'GET').length;
      const writes = log.length - tokens - lookups;
      const made = writes + lookups + tokens;
      byTarget[target] = { writes, lookups, tokens, oracle: oracle[target], ratio: oracle[target] === 0 ? (made === 0 ? 1 : Number.POSITIVE_INFINITY) : round(made / oracle[target], 2) };
    }
    const calls = Object.values(byTarget).reduce((n, f) => n + f.writes + f.lookups + f.tokens, 0);
    const minimum = Object.values(byTarget).reduce((n, f) => n + f.oracle, 0);
    return { events: deliveries.length, byTarget, total: { calls, oracle: minimum, ratio: round(calls / minimum, 2) } };
  } finally {
    await stack.stop();
  }
}

/** The fewest calls per target for these deliveries, from the targets' own `desired` records. */
async function oracleCalls(config: LocalStack['config'], deliveries: Record<string, unknown>[]): Promise<Record<TargetName, number>> {
  const source = await sources.hostaway();
  const connection = config.connections['hostaway-demo']!;
  const targets = createTargets({ config, secrets: { get: async () => ({}) }, store: undefined as never, shareRate: false });
  // The snapshots sync stores, per reservation, in arrival order: only ever newer.
  const stored = new Map<string, Reservation[]>();
  for (const delivery of deliveries) {
    const parsed = source.parse(delivery, { connectionId: 'hostaway-demo', connection, now: Date.now() });
    if (parsed.kind !== 'reservations') continue;
    for (const reservation of parsed.reservations) {
      const list = stored.get(reservation.reservationId) ?? [];
      const last = list.at(-1);
      if (!last || reservation.sourceVersion > last.sourceVersion) list.push(reservation);
      stored.set(reservation.reservationId, list);
    }
  }
  const out = { minut: 1, recepai: 0, kasify: 0, hostelmate: 0 } as Record<TargetName, number>; // Minut: one token grant
  for (const snapshots of stored.values()) {
    const property = connection.properties[snapshots[0]!.propertyId]!;
    for (const name of TARGETS) {
      const target = targets[name];
      if (!target || !(name in property.targets)) continue;
      const parts = (r: Reservation): string[] => {
        const desired = target.desired(r, property) as Record<string, unknown> | null;
        if (desired === null) return ['absent'];
        // HostelMate keeps the booking (dates, room) and its guest as two records.
        if (name === 'hostelmate') return [fingerprint([desired.dates, desired.room]), fingerprint(desired.guest)];
        return [fingerprint(desired)];
      };
      let previous: string[] = ['absent'];
      for (const snapshot of snapshots) {
        const next = parts(snapshot);
        if (next[0] === 'absent' || previous[0] === 'absent') out[name] += next[0] === previous[0] ? 0 : 1;
        else out[name] += next.filter((part, i) => part !== previous[i]).length;
        previous = next;
      }
    }
  }
  return out;
}
