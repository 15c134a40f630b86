import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadConfigFile } from '../functions/core/config.ts';
import { LocalSecretStore } from '../functions/core/secrets.ts';
import { createIngestHandler } from '../functions/ingest/handler-factory.ts';
import { toApiGatewayEvent } from '../infra/local/http-front.ts';
import { localContext } from '../infra/local/lambda-context.ts';
import { CONNECTION_OF, SIGNERS, URL_TOKEN_OF } from '../test/support/signers.ts';
import { quietly } from './quiet.ts';
import { median, round } from './stats.ts';

/**
 * The ingest hot path per source: the real handler in process (verify, parse, normalise, fit,
 * check the contract, metrics and logs as configured), a queue that does nothing, the fixture
 * of each source as the body. Baseline in the same run: HMAC-SHA256 plus JSON.parse of the same
 * body. Interleaved A/B runs; medians. Stdout (EMF metrics) is swallowed while measuring.
 * A hot path is what a warm instance runs: V8 takes thousands of events to optimise the handler
 * (about 150 µs an event over the first 500, under 50 µs after 10,000), so each source is warmed
 * with `warmUpEvents` first, timed and reported apart (`warmUpPerSecond`) rather than hidden.
 * The ratio is the median of the runs' paired ratios: each baseline run comes right after (or
 * before, alternately) its handler run and lasts as long, so a machine that speeds up or slows
 * down during the run (a shared one does, by half) weighs on both sides of each pair alike.
 * A ratio of the two medians took them from different moments: the same source measured from
 * 7× to 12× across runs of one afternoon.
 */
const FIXTURES: Record<string, string> = {
  hostaway: 'hostaway-reservation.created.json',
  generic: 'generic-reservation.json',
  guesty: 'guesty-reservation.new.json',
  smily: 'smily-booking_created.json',
  lodgify: 'lodgify-booking_new_status_booked.json',
  hospitable: 'hospitable-reservation.created.json',
  smoobu: 'smoobu-newReservation.json',
  apaleo: 'apaleo-reservation_created.json',
  mews: 'mews-ServiceOrderUpdated.json',
  cloudbeds: 'cloudbeds-reservation_created.json',
};

export interface HotPathFigures {
  [source: string]: { eventsPerSecond: number; baselinePerSecond: number; ratio: number; warmUpEvents: number; warmUpPerSecond: number };
}

export async function measureIngestHotPath(options: { runs: number; eventsPerRun: number; warmUpEvents: number }): Promise<HotPathFigures> {
  const config = loadConfigFile('config/guest-sync.example.json');
  const handler = createIngestHandler({
    config,
    secrets: new LocalSecretStore({}, ['config/secrets.example.json']),
    queue: { send: async () => undefined, delay: async () => undefined, deadLetter: async () => undefined },
    now: Date.now,
  });
  const context = localContext('bench-ingest', 10_000);
  const out: HotPathFigures = {};
  for (const [source, file] of Object.entries(FIXTURES)) {
    const body = readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8');
    const headers = { 'content-type': 'application/json', ...SIGNERS[source]!(body, Date.now(), 'msg_bench') };
    const token = URL_TOKEN_OF[source];
    const event = toApiGatewayEvent({ path: `/webhooks/${CONNECTION_OF[source]}`, connectionId: CONNECTION_OF[source]!, ...(token !== undefined ? { token } : {}), headers, body: Buffer.from(body) });
    const check = (await quietly(() => handler(event, context))) as APIGatewayProxyStructuredResultV2;
    if (check.statusCode !== 202) throw new Error(`bench: ${source} fixture answered ${check.statusCode}: ${check.body}`);
    const handle = async () => void (await handler(event, context));
    const warmUp = await rate(options.warmUpEvents, handle);
    const real: number[] = [];
    const baseline: number[] = [];
    const ratios: number[] = [];
    const hmacAndParse = async () => void JSON.parse(createHmac('sha256', 'bench-secret').update(body).digest('hex') && body);
    // How long a handler run takes, for a baseline that runs first: the last one's, or the warm-up's pace.
    let runMs = (options.eventsPerRun / warmUp.perSecond) * 1000;
    for (let run = 0; run < options.runs; run++) {
      // The pair's baseline runs as long as its handler run, after it or (every other run) before it.
      let handled: { perSecond: number; ms: number };
      let base: number;
      if (run % 2 === 0) {
        handled = await rate(options.eventsPerRun, handle);
        base = await rateFor(handled.ms, hmacAndParse);
      } else {
        base = await rateFor(runMs, hmacAndParse);
        handled = await rate(options.eventsPerRun, handle);
      }
      runMs = handled.ms;
      real.push(handled.perSecond);
      baseline.push(base);
      ratios.push(base / handled.perSecond);
    }
    out[source] = {
      eventsPerSecond: Math.round(median(real)),
      baselinePerSecond: Math.round(median(baseline)),
      ratio: round(median(ratios), 1),
      warmUpEvents: options.warmUpEvents,
      warmUpPerSecond: Math.round(warmUp.perSecond),
    };
  }
  return out;
}

/** Events a second over `events` calls, and how long they took. */
function rate(events: number, one: () => Promise<void>): Promise<{ perSecond: number; ms: number }> {
  return quietly(async () => {
    const started = performance.now();
    for (let i = 0; i < events; i++) await one();
    const ms = performance.now() - started;
    return { perSecond: events / (ms / 1000), ms };
  });
}

/** Events a second of `one` called for `ms` milliseconds (checking the clock every 100 calls). */
function rateFor(ms: number, one: () => Promise<void>): Promise<number> {
  return quietly(async () => {
    const started = performance.now();
    let events = 0;
    let elapsed = 0;
    do {
      for (let i = 0; i < 100; i++) await one();
      events += 100;
      elapsed = performance.now() - started;
    } while (elapsed < ms);
    return events / (elapsed / 1000);
  });
}
