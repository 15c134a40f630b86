import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAMBDA_NODE_OPTIONS } from '../../infra/bundling.ts';
import { CREATE_INTENT_LEASE_MS } from '../../functions/core/budget.ts';
import { signStandardWebhook } from '../../infra/local/standard-webhooks-signer.ts';
import { localToInstant } from '../../functions/core/local-time.ts';
import { bookingIdOf } from '../../functions/targets/hostelmate.ts';
import type { Reservation } from '../../functions/core/reservation.ts';
import { startLocalStack, type LocalStack } from '../../infra/local/stack.ts';
import { DynamoDbStore } from '../../functions/core/dynamodb-store.ts';
import type { RandomFaultRates } from '../../infra/local/sandboxes/slow-answers.ts';

/**
 * The chaos suite: many reservations with several versions each, every delivery sent three
 * times in shuffled order, through the local stack while the target sandboxes answer 5xx, 429
 * (Retry-After from 1 s to minutes), hang or lose answers, one target is down for a while, and
 * the sync workers (a process of their own) are killed with SIGKILL right after a target
 * answered a write. Production defaults for retries, the circuit breaker and pauses; only the
 * sweep runs more often. Then the faults stop and a checker that reads each sandbox directly
 * (never guest-sync's own state) counts, per target: lost, duplicates, stale, orphans; and the
 * DLQ depth and the time to converge.
 */

export interface ChaosOptions {
  reservations: number;
  seed: number;
  /** The sweep's interval (AWS: 5 minutes); the one production setting shortened. */
  sweepSeconds: number;
  /** How long the faults last from the first delivery. */
  faultSeconds: number;
  /** One target (Kasify) answers 503 to everything for this long, from the start. */
  outageSeconds: number;
  rates: RandomFaultRates;
  /** Chance that the workers die right after a target answered a write. */
  crashP: number;
  /** Circuit-breaker pause; production default 300 s (the smoke run in npm test shortens it). */
  pauseSeconds?: number;
  log?: (line: string) => void;
}

export const DEFAULT_CHAOS: ChaosOptions = {
  reservations: 50,
  seed: 20261130,
  sweepSeconds: 10,
  faultSeconds: 120,
  outageSeconds: 60,
  rates: { serverError: 0.2, rateLimited: 0.1, retryAfterSeconds: [1, 2, 5, 30, 120, 300], hang: 0.05, lost: 0.05 },
  crashP: 0.03,
};

export interface TargetFigures {
  expected: number;
  lost: number;
  duplicates: number;
  stale: number;
  orphans: number;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, 'log'>;
  deliveries: number;
  versions: number;
  crashes: number;
  faultsStoppedAfterSeconds: number;
  converged: boolean;
  convergeSeconds: number | null;
  /** Two sweep intervals plus the longest of: a Retry-After, the breaker's pause, a killed worker's visibility timeout, a create intent's lease. */
  convergeBoundSeconds: number;
  dlqDepth: number;
  targets: Record<'minut' | 'recepai' | 'kasify' | 'hostelmate', TargetFigures>;
  /** When it did not converge: what guest-sync holds about each reservation still wrong (no guest data). */
  problems?: Problem[];
  /** When it converged: the reservations that were put right last, and how long after the faults stopped. */
  lastToConverge?: { target: string; reservationId: string; kind: Problem['kind']; wrongUntilSeconds: number }[];
  /** From the traces: target work handed to a lane, deliveries that met a lane at work, and the lanes' own steps. */
  lanes: { handedOff: number; withLane: number; laneSteps: number };
}

/** A reservation a target holds wrongly, as `check` finds it. */
interface Wrong {
  target: string;
  reservationId: string;
  kind: Problem['kind'];
  latest: Version;
}

interface Problem {
  target: string;
  reservationId: string;
  kind: 'lost' | 'stale' | 'duplicates' | 'orphans';
  latest: { version: number; status: string };
  state: unknown;
  trace: unknown[];
}

const CONNECTION = 'chaos';
const PROPERTY = 'chaos-seaside';
const ZONE = 'Europe/Stockholm';
const SECRET = 'whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5LTMyYnl0ZXM='; // the demo generic secret (sandbox only)
const HOME = 'home_demo_seaside';
const SLUG = 'seaside-hotel';
const KASIFY_PROPERTY = '6f1d2c1e-5b7a-4c1e-9a51-2f6f3b8c9d01';
const DORM = '3d6f1a2b-8c4e-4f5a-9b7c-0e1d2f3a4b5c';
/** Timeline rooms (no two stays in one at once) and one room future stays may move to. */
const ROOMS = ['101', '102', '103', '201', '202', '203', '301', '302'];
const MOVE_ROOM = '305';
/** The local stack's visibility timeout: how long a killed worker's batch stays invisible. */
const VISIBILITY_TIMEOUT_SECONDS = 60;

interface Version {
  version: number;
  status: 'confirmed' | 'cancelled';
  lastName: string;
  checkInDate: string;
  checkOutDate: string;
  room: string;
  phone: string;
}
interface Planned {
  id: number;
  versions: Version[];
}

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/** Realistic data: per room a timeline of stays that never overlap; half the rooms have a guest in house now. */
export function plan(count: number, random: () => number): Planned[] {
  const planned: Planned[] = [];
  for (let i = 0; i < count; i++) {
    const room = ROOMS[i % ROOMS.length]!;
    const slot = Math.floor(i / ROOMS.length);
    const inHouse = slot === 0 && i % 2 === 0;
    const start = inHouse ? -1 : 4 + slot * 6 + (i % 2);
    const nights = inHouse ? 3 : 3 + Math.floor(random() * 2);
    const base: Version = { version: 1, status: 'confirmed', lastName: `C${i}v1`, checkInDate: day(start), checkOutDate: day(start + nights), room, phone: `+4670${String(1_000_000 + i).slice(1)}1` };
    const versions: Version[] = [base];
    const next = (change: Partial<Version>) => {
      const previous = versions.at(-1)!;
      const version = previous.version + 1;
      versions.push({ ...previous, lastName: `C${i}v${version}`, ...change, version });
    };
    next({ phone: `+4670${String(1_000_000 + i).slice(1)}2` }); // a guest edit
    if (random() < 0.4) {
      // A date change inside the booked window (one night less), or a room move for a stay to come.
      if (!inHouse && random() < 0.5) next({ room: MOVE_ROOM });
      else next({ checkOutDate: day(start + nights - 1) });
    }
    if (random() < 0.25) {
      next({ status: 'cancelled' });
      if (random() < 0.5) next({ status: 'confirmed' }); // booked again
    }
    planned.push({ id: i, versions });
  }
  return planned;
}

function body(reservation: Planned, v: Version): string {
  return JSON.stringify({
    type: 'reservation.upserted',
    reservation: {
      id: `R${reservation.id}`,
      propertyId: PROPERTY,
      unitId: `U${v.room}`,
      status: v.status,
      checkInDate: v.checkInDate,
      checkOutDate: v.checkOutDate,
      version: v.version,
      guest: { firstName: `G${reservation.id}`, lastName: v.lastName, email: `chaos.${reservation.id}@example.com`, phone: v.phone },
    },
  });
}

function chaosConfig(pauseSeconds: number | undefined): string {
  const config = {
    ...(pauseSeconds !== undefined ? { circuitBreaker: { pauseSeconds } } : {}),
    connections: {
      [CONNECTION]: {
        pms: 'generic',
        secret: 'generic-demo',
        properties: {
          [PROPERTY]: {
            timeZone: ZONE,
            country: 'SE',
            targets: {
              minut: { homeId: HOME },
              recepai: { hotelSlug: SLUG, roomNumber: '101', rooms: Object.fromEntries([...ROOMS, MOVE_ROOM].map((r) => [`U${r}`, r])) },
              kasify: { propertyId: KASIFY_PROPERTY },
              hostelmate: { roomId: DORM },
            },
          },
        },
      },
    },
    // Production defaults (pacing, timeouts); the sandboxes enforce the vendors' limits.
    targets: {
      minut: { baseUrl: 'http://127.0.0.1:4010/minut/v8', credentials: 'minut' },
      recepai: { baseUrl: 'http://127.0.0.1:4010/recepai/api/pms/v1', credentials: 'recepai' },
      kasify: { baseUrl: 'http://127.0.0.1:4010/kasify/v1', credentials: 'kasify' },
      hostelmate: { baseUrl: 'http://127.0.0.1:4010/hostelmate/api/v1', credentials: 'hostelmate' },
    },
  };
  const path = join(mkdtempSync(join(tmpdir(), 'guest-sync-chaos-')), 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** What each sandbox holds against what the latest version of each reservation asks for. */
export function check(stack: LocalStack, planned: Planned[], now = Date.now(), problems: Wrong[] = []): ChaosReport['targets'] {
  const figures = (): TargetFigures => ({ expected: 0, lost: 0, duplicates: 0, stale: 0, orphans: 0 });
  const out = { minut: figures(), recepai: figures(), kasify: figures(), hostelmate: figures() };
  const minutGuests = stack.sandbox.minut.guests(HOME);
  const kasifyBookings = stack.sandbox.kasify.allBookings(KASIFY_PROPERTY).filter((b) => b.status !== 'cancelled');
  const recepaiActive = stack.sandbox.recepai.activeGuests(SLUG);
  const hostelBookings = stack.sandbox.hostelmate.bookings();
  const hostelGuests = new Map(stack.sandbox.hostelmate.guests().map((g) => [g.guestId, g]));

  for (const reservation of planned) {
    const latest = reservation.versions.at(-1)!;
    const alive = latest.status === 'confirmed';
    const tally = (f: TargetFigures, present: number, fresh: boolean, wanted: boolean) => {
      const before = { ...f };
      if (wanted) {
        f.expected++;
        if (present === 0) f.lost++;
        else if (!fresh) f.stale++;
        f.duplicates += Math.max(0, present - 1);
      } else f.orphans += present;
      const target = Object.entries(out).find(([, figures]) => figures === f)![0];
      for (const kind of ['lost', 'stale', 'duplicates', 'orphans'] as const) {
        if (f[kind] > before[kind]) problems.push({ target, reservationId: `R${reservation.id}`, kind, latest });
      }
    };
    const name = `G${reservation.id} ${latest.lastName}`;
    const minut = minutGuests.filter((g) => g.name.startsWith(`G${reservation.id} C${reservation.id}v`));
    tally(out.minut, minut.length, minut.length === 1 && minut[0]!.name === name && minut[0]!.checkin_time === new Date(localToInstant(latest.checkInDate, '15:00', ZONE)).toISOString(), alive);

    const kasify = kasifyBookings.filter((b) => b.channel_id === `${CONNECTION}:R${reservation.id}`);
    tally(out.kasify, kasify.length, kasify.length === 1 && kasify[0]!.guest_last_name === latest.lastName && kasify[0]!.from === latest.checkInDate && kasify[0]!.to === latest.checkOutDate, alive);

    const inHouse = alive && Date.parse(localToInstant(latest.checkInDate, '15:00', ZONE)) <= now && now < Date.parse(localToInstant(latest.checkOutDate, '11:00', ZONE));
    const recepai = recepaiActive.filter((g) => g.pmsGuestId === `${CONNECTION}:R${reservation.id}`);
    tally(out.recepai, recepai.length, recepai.length === 1 && recepai[0]!.lastName === latest.lastName && recepai[0]!.roomNumber === latest.room, inHouse);

    const bookingId = bookingIdOf({ connectionId: CONNECTION, reservationId: `R${reservation.id}` } as Reservation);
    const ours = hostelBookings.filter((b) => b.id === bookingId && b.status !== 'cancelled');
    const others = hostelBookings.filter((b) => b.id !== bookingId && b.status !== 'cancelled' && hostelGuests.get(b.guest.guestId)?.email === `chaos.${reservation.id}@example.com`);
    const booking = ours[0];
    const nights = booking?.dates.map((d) => d.date) ?? [];
    const fresh = !!booking && hostelGuests.get(booking.guest.guestId)?.last_name === latest.lastName && nights[0] === latest.checkInDate && nights.length === (Date.parse(latest.checkOutDate) - Date.parse(latest.checkInDate)) / 86_400_000;
    tally(out.hostelmate, ours.length + others.length, fresh, alive);
  }
  return out;
}

const converged = (targets: ChaosReport['targets']) => Object.values(targets).every((t) => t.lost + t.duplicates + t.stale + t.orphans === 0);

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const random = prng(options.seed);
  const planned = plan(options.reservations, random);
  const stack = await startLocalStack({
    ports: { http: 0, sandbox: 0, sqs: 0, dynamodb: 0 },
    dataDir: null,
    configPath: chaosConfig(options.pauseSeconds),
    syncWorkers: 0,
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
    sweepIntervalMs: options.sweepSeconds * 1000,
  });
  let crashes = 0;
  let child: ChildProcess | undefined;
  let stopping = false;
  let crashP = options.crashP;
  let workerStarts = 0;
  const startWorkers = () => {
    // The first process dies at its fifth answered write for sure: every run has a crash.
    const crashAtWrite = workerStarts++ === 0 && crashP > 0 ? '5' : '0';
    child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      // Started as Lambda starts the sync function (its NODE_OPTIONS).
      env: { ...process.env, ...stack.env, NODE_OPTIONS: LAMBDA_NODE_OPTIONS, CHAOS_QUEUE_ARN: stack.queueArn, CHAOS_LANES: JSON.stringify(stack.lanes), CHAOS_CRASH_P: String(crashP), CHAOS_CRASH_AT_WRITE: crashAtWrite, CHAOS_WORKERS: '2', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('exit', (_code, signal) => {
      if (stopping) return;
      if (signal === 'SIGKILL') crashes++;
      startWorkers(); // as Lambda starts a new instance
    });
  };
  try {
    if (options.pauseSeconds !== undefined) log(`(circuit-breaker pause shortened to ${options.pauseSeconds} s for this run)`);
    startWorkers();
    const started = Date.now();
    for (const vendor of ['/minut', '/recepai', '/kasify', '/hostelmate']) stack.sandbox.randomFaults(vendor, options.rates);
    stack.sandbox.kasify.setOutage(503);
    const outageEnds = setTimeout(() => stack.sandbox.kasify.setOutage(null), options.outageSeconds * 1000);

    // Every version of every reservation, each delivered three times (a PMS retry keeps its id), shuffled.
    const deliveries = planned.flatMap((r) => r.versions.flatMap((v) => [0, 1, 2].map(() => ({ r, v, id: `msg_chaos_${r.id}_${v.version}` }))));
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    log(`${planned.length} reservations, ${planned.reduce((n, r) => n + r.versions.length, 0)} versions, ${deliveries.length} deliveries`);
    for (let i = 0; i < deliveries.length; i += 8) {
      await Promise.all(
        deliveries.slice(i, i + 8).map(async ({ r, v, id }) => {
          const payload = body(r, v);
          const response = await fetch(`${stack.urls.webhooks}/webhooks/${CONNECTION}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signStandardWebhook(SECRET, id, Math.floor(Date.now() / 1000), payload) }, body: payload });
          if (response.status !== 202) throw new Error(`a chaos delivery was answered ${response.status}: ${await response.text()}`);
        }),
      );
    }
    log(`deliveries sent after ${Math.round((Date.now() - started) / 1000)} s; faults run until ${options.faultSeconds} s`);
    const faultsEnd = started + options.faultSeconds * 1000;
    while (Date.now() < faultsEnd) await new Promise((resolve) => setTimeout(resolve, 1000));

    // The faults stop: no more random answers, the outage is over, the workers no longer die.
    clearTimeout(outageEnds);
    stack.sandbox.kasify.setOutage(null);
    for (const vendor of ['/minut', '/recepai', '/kasify', '/hostelmate']) stack.sandbox.randomFaults(vendor, null);
    crashP = 0;
    child?.send('stop-crashing');
    const stoppedAt = Date.now();
    const faultsStoppedAfterSeconds = Math.round((stoppedAt - started) / 1000);
    const longestRetryAfter = Math.max(0, ...options.rates.retryAfterSeconds);
    // A batch whose worker was killed comes back after the queue's visibility timeout (60 s locally, 360 s on AWS).
    // and a create interrupted by a kill is in doubt until its intent's lease ends (65 s).
    const convergeBoundSeconds = 2 * options.sweepSeconds + Math.max(longestRetryAfter, options.pauseSeconds ?? 300, VISIBILITY_TIMEOUT_SECONDS, Math.ceil(CREATE_INTENT_LEASE_MS / 1000));
    log(`faults stopped after ${faultsStoppedAfterSeconds} s; waiting up to ${convergeBoundSeconds + 60} s to converge`);

    let convergeSeconds: number | null = null;
    let targets = check(stack, planned);
    // What was still wrong at the last poll before convergence: it explains a slow convergence.
    let lastWrong: { found: Wrong[]; seconds: number } = { found: [], seconds: 0 };
    while (Date.now() - stoppedAt < (convergeBoundSeconds + 60) * 1000) {
      const found: Wrong[] = [];
      targets = check(stack, planned, Date.now(), found);
      if (found.length > 0) lastWrong = { found, seconds: Math.round((Date.now() - stoppedAt) / 1000) };
      const queued = (await Promise.all([stack.queueUrl, ...stack.lanes.map((lane) => lane.queueUrl)].map((url) => stack.queueDepth(url)))).reduce((a, b) => a + b, 0);
      if (converged(targets) && queued === 0) {
        convergeSeconds = Math.round((Date.now() - stoppedAt) / 1000);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const { log: _log, ...reported } = options;
    const problems: Problem[] = [];
    if (convergeSeconds === null) {
      const found: Wrong[] = [];
      check(stack, planned, Date.now(), found);
      const store = new DynamoDbStore(stack.dynamodb, stack.tableName);
      for (const p of found) {
        const key = { connectionId: CONNECTION, reservationId: p.reservationId };
        problems.push({ target: p.target, reservationId: p.reservationId, kind: p.kind, latest: { version: p.latest.version, status: p.latest.status }, state: await store.getTargetState(key, p.target as 'minut'), trace: await store.listTrace(key) });
      }
    }
    const lanes = { handedOff: 0, withLane: 0, laneSteps: 0 };
    const traceStore = new DynamoDbStore(stack.dynamodb, stack.tableName);
    for (const reservation of planned) {
      for (const step of await traceStore.listTrace({ connectionId: CONNECTION, reservationId: `R${reservation.id}` })) {
        if (step.via === 'lane') lanes.laneSteps++;
        for (const t of step.targets) {
          if (t.action === 'handed_off') lanes.handedOff++;
          if (t.action === 'with_lane') lanes.withLane++;
        }
      }
    }
    const lastToConverge = convergeSeconds !== null ? lastWrong.found.map((p) => ({ target: p.target, reservationId: p.reservationId, kind: p.kind, wrongUntilSeconds: lastWrong.seconds })) : [];
    return {
      ...(problems.length > 0 ? { problems } : {}),
      ...(lastToConverge.length > 0 ? { lastToConverge } : {}),
      options: reported,
      deliveries: deliveries.length,
      versions: planned.reduce((n, r) => n + r.versions.length, 0),
      crashes,
      faultsStoppedAfterSeconds,
      converged: convergeSeconds !== null,
      convergeSeconds,
      convergeBoundSeconds,
      dlqDepth: await stack.queueDepth(stack.dlqUrl),
      targets,
      lanes,
    };
  } finally {
    stopping = true;
    child?.kill('SIGKILL');
    await stack.stop();
  }
}

export function chaosSummary(report: ChaosReport): string {
  const rows = Object.entries(report.targets).map(([name, t]) => `  ${name.padEnd(11)} expected ${String(t.expected).padStart(3)}  lost ${t.lost}  duplicates ${t.duplicates}  stale ${t.stale}  orphans ${t.orphans}`);
  return [
    `chaos: ${report.options.reservations} reservations, ${report.versions} versions, ${report.deliveries} deliveries (each 3 times, shuffled), ${report.crashes} worker crashes (SIGKILL)`,
    `faults: ${Math.round(report.options.rates.serverError * 100)}% 5xx, ${Math.round(report.options.rates.rateLimited * 100)}% 429 (Retry-After ${report.options.rates.retryAfterSeconds.join('/')} s), ${Math.round(report.options.rates.hang * 100)}% hung, ${Math.round(report.options.rates.lost * 100)}% lost answers, Kasify down ${report.options.outageSeconds} s; stopped after ${report.faultsStoppedAfterSeconds} s`,
    `sweep every ${report.options.sweepSeconds} s (AWS: 300 s); everything else at production defaults${report.options.pauseSeconds !== undefined ? ` except the breaker's pause (${report.options.pauseSeconds} s)` : ''}`,
    ...rows,
    `DLQ depth: ${report.dlqDepth}`,
    `lanes: ${report.lanes.handedOff} target works handed off, ${report.lanes.withLane} deliveries met a lane at work, ${report.lanes.laneSteps} lane steps`,
    report.converged ? `converged ${report.convergeSeconds} s after the faults stopped (bound: ${report.convergeBoundSeconds} s)` : `NOT converged within ${report.convergeBoundSeconds + 60} s after the faults stopped`,
    ...(report.lastToConverge?.length ? [`last put right: ${report.lastToConverge.map((p) => `${p.target} ${p.reservationId} (${p.kind})`).join(', ')}, still wrong ${report.lastToConverge[0]!.wrongUntilSeconds} s after the faults stopped`] : []),
  ].join('\n');
}
