import { readdirSync, readFileSync } from 'node:fs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { parseConfig, type Config, type TargetName } from '../../functions/core/config.ts';
import type { DynamoDbStore } from '../../functions/core/dynamodb-store.ts';
import { readQueueMessage, sqsEntry, sqsEntryProblem, type Queue, type QueueMessage } from '../../functions/core/queue.ts';
import { LocalSecretStore, type SecretStore } from '../../functions/core/secrets.ts';
import { createIngestHandler } from '../../functions/ingest/handler-factory.ts';
import type { Fetcher } from '../../functions/sources/fetcher.ts';
import { syncMessage, type SyncDeps } from '../../functions/sync/sync.ts';
import { createTargets } from '../../functions/targets/registry.ts';
import type { Target } from '../../functions/targets/target.ts';
import { toApiGatewayEvent } from '../../infra/local/http-front.ts';
import { startEmbeddedStore } from '../support/dynamo.ts';
import { CONNECTION_OF, SIGNERS, URL_TOKEN_OF } from '../support/signers.ts';
import { localContext } from '../../infra/local/lambda-context.ts';

/**
 * The ingest fuzz suite: hostile deliveries, most of them validly signed mutations of the
 * fixtures of every source (a valid signature is what reaches the parser), plus random
 * paths, headers and bodies, sent to the real ingest handler in process. Every message a
 * 202 queued is checked against SQS's rules, read back as sync reads it, and synced against
 * the real store (embedded DynamoDB) and in-memory targets built on each real adapter's
 * `desired` record: this checks carriage, not vendor limits.
 *
 * Invariants: every answer is 200, 202 or a documented 4xx (5xx only for an injected queue or
 * secret-store failure); every queued message meets SQS's rules, parses in sync, and sync
 * handles it without throwing (synced, a permanent failure with a code, unrouted, nothing to
 * do, or retrying for a documented transient reason).
 *
 * A new source joins by adding its fixture to `examples/` and its signer to `SIGNERS` (and its
 * token to `URL_TOKEN_OF` if it signs nothing).
 */

/** Every 4xx code the README's "Webhook answers" table documents. */
export const DOCUMENTED_4XX = new Set([
  'invalid_json',
  'invalid_payload',
  'missing_field',
  'invalid_field',
  'stay_too_long',
  'invalid_request',
  'missing_credentials',
  'invalid_credentials',
  'missing_signature',
  'invalid_signature_headers',
  'invalid_signature',
  'missing_token',
  'invalid_token',
  'source_ip_not_allowed',
  'stale_timestamp',
  'future_timestamp',
  'unknown_connection',
  'payload_too_large',
]);
/** Why sync may ask for a retry of a message that parses, with in-memory targets: none of its own making. */
const DOCUMENTED_TRANSIENT = new Set<string>();

/**
 * Per fixture, the fields a reservation can do without. A delivery whose only changes are to
 * these must get the answer the fixture itself gets (a 202): a bad optional field is dropped
 * and recorded, never a reason to refuse the reservation (PMSs do not retry a 4xx).
 */
const OPTIONAL_FIELDS: Record<string, string[][]> = {
  'hostaway-reservation.created.json': ['guestFirstName', 'guestLastName', 'guestName', 'guestEmail', 'phone', 'numberOfGuests', 'adults', 'children', 'infants', 'pets', 'guestLocale', 'guestCountry', 'checkInTime', 'checkOutTime', 'reservationUnit', 'totalPrice', 'channelName'].map((f) => ['data', f]),
  'generic-reservation.json': [
    ...['checkInTime', 'checkOutTime', 'partySize', 'adults', 'children', 'unitId', 'timeZone', 'guest'].map((f) => ['reservation', f]),
    ...['firstName', 'lastName', 'fullName', 'email', 'phone', 'language', 'country'].map((f) => ['reservation', 'guest', f]),
  ],
  'guesty-reservation.new.json': ['guestsCount', 'guestId', 'guest', 'checkIn', 'checkOut', 'confirmationCode', 'source', 'money', 'nightsCount', 'customFields'].map((f) => ['reservation', f]),
  'guesty-reservation.created.v2.json': [['publishedAt'], ['subType'], ['data', 'status'], ['data', 'listingId'], ['data', 'checkInDateLocalized'], ['data', 'checkOutDateLocalized']],
  'smily-booking_created.json': ['adults', 'children', 'reference', 'notes', 'expected_checkin_time', 'expected_checkout_time', 'final_price', 'external_reference'].map((f) => ['resource', 'booking', f]),
  'lodgify-booking_new_status_booked.json': [
    ...['room_types', 'language', 'notes', 'source', 'source_text', 'nights', 'type', 'date_created'].map((f) => ['booking', f]),
    ...['name', 'email', 'phone_number', 'country', 'country_code'].map((f) => ['guest', f]),
    ['guest'], ['current_order'], ['subowner'],
  ],
  'hospitable-reservation.created.json': [
    ...['guest', 'guests', 'check_in', 'check_out', 'platform', 'platform_id', 'nights', 'listings', 'status', 'reservation_status', 'conversation_id'].map((f) => ['data', f]),
    ...['first_name', 'last_name', 'email', 'phone_numbers', 'location'].map((f) => ['data', 'guest', f]),
    ...['total', 'adult_count', 'child_count', 'infant_count'].map((f) => ['data', 'guests', f]),
    ['triggers'], ['version'],
  ],
  'apaleo-reservation_created.json': [['id'], ['accountId'], ['clientId'], ['subjectId'], ['timestamp']],
  'apaleo-system_healthcheck.json': [['id'], ['accountId'], ['propertyIds'], ['timestamp']],
  'cloudbeds-reservation_created.json': [['startDate'], ['endDate'], ['version'], ['propertyID'], ['propertyID_str']],
  'mews-ServiceOrderUpdated.json': [['IntegrationId']],
  'smoobu-newReservation.json': [
    ...['guest-name', 'firstname', 'lastname', 'email', 'phone', 'adults', 'children', 'check-in', 'check-out', 'language', 'channel', 'price', 'type', 'is-blocked-booking', 'modifiedAt', 'reference-id'].map((f) => ['data', f]),
    ['user'],
  ],
};

/** The fixtures of every source: `examples/<pms>-*.json`. */
function fixtures(): Array<{ name: string; source: string; body: unknown }> {
  const dir = new URL('../../examples/', import.meta.url);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ name, source: name.split('-')[0]!, body: JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as unknown }))
    .filter((f) => f.source in SIGNERS);
}

function setAt(body: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') return copy;
    node = next as Record<string, unknown>;
  }
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copy;
}

// ---- Hostile values and mutations.

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom('\uFFFE', '\uFFFF', '\uD800', '\uDC00x', '😀', '\u202Eabc', '\u200B', '', ' ', '__proto__', 'constructor', 'toString', 'Mars/Olympus', 'UTC', 'Europe/Stockholm') },
  { weight: 2, arbitrary: fc.constantFrom('2026-99-99', '2026-02-30', '0001-01-01', '9999-12-31', '2026-12-24', '2027-01-02', '2026-07-10T13:00:00Z', '0000-01-01T00:00:00Z', '2026-99-99 99:99:99', '2026-12-01 10:00:00', '24:00', '15:00') },
  { weight: 1, arbitrary: fc.record({ char: fc.constantFrom('x', 'é', '😀', '\u0000', '"'), n: fc.constantFrom(129, 201, 255, 1_000, 70_000) }).map(({ char, n }) => char.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('cancelled', 'canceled', 'Canceled', 'new', 'modified', 'confirmed', 'inquiry', 'ownerStay', 'Unavailable', 'booking_destroyed', 'client_updated', 'reservation.updated', 'reservation.created.v2', 'ping', 'Declined', 'booking_change', 'booking_status_change_declined', 'cancelReservation', 'cancellation', 'reservation.changed', 'not accepted') },
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 1e300, -1e300, 2 ** 53 + 1, 0.5, 1_777_713_327_000, 20260710, 99_999_999),
);
const hostileLeaf: fc.Arbitrary<unknown> = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null), fc.constant(undefined));
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileLeaf },
  { weight: 1, arbitrary: fc.array(hostileLeaf, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileLeaf, { maxKeys: 3 }) },
);

/** Where to change a JSON value (child indexes, each taken modulo the children present) and what to put there. */
const mutation = fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), value: hostileValue, rename: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) });

type Mutation = { path: number[]; value: unknown; rename: boolean };

function mutate(body: unknown, mutations: Mutation[]): unknown {
  const copy = structuredClone(body);
  for (const { path, value, rename } of mutations) {
    let node: unknown = copy;
    for (let depth = 0; depth < path.length; depth++) {
      if (node === null || typeof node !== 'object') break;
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = keys[path[depth]! % keys.length]!;
      const child = (node as Record<string, unknown>)[key];
      const last = depth === path.length - 1 || child === null || typeof child !== 'object';
      if (last) {
        if (rename && typeof value === 'string' && !Array.isArray(node)) {
          // The same value under a hostile key (e.g. "__proto__"), the original key gone.
          Object.defineProperty(node, value, { value: child, enumerable: true, writable: true, configurable: true });
          delete (node as Record<string, unknown>)[key];
        } else if (value === undefined) {
          delete (node as Record<string, unknown>)[key];
        } else {
          (node as Record<string, unknown>)[key] = value;
        }
        break;
      }
      node = child;
    }
  }
  return copy;
}

export type FuzzCase =
  | { kind: 'signed'; fixture: number; mutations: Mutation[]; id: string; fail?: 'queue' | 'secrets' | undefined }
  | { kind: 'optional'; fixture: number; changes: Array<{ field: number; value: unknown }>; id: string }
  | { kind: 'raw'; connectionId: string; headers: Record<string, string>; body: string };

function caseArbitrary(fixtureCount: number, optionalFixtures: number[]): fc.Arbitrary<FuzzCase> {
  const optional = fc.record({
    kind: fc.constant('optional' as const),
    fixture: fc.constantFrom(...optionalFixtures),
    changes: fc.array(fc.record({ field: fc.nat(), value: hostileValue }), { minLength: 1, maxLength: 4 }),
    id: fc.uuid(),
  });
  const signed = fc.record({
    kind: fc.constant('signed' as const),
    fixture: fc.nat({ max: fixtureCount - 1 }),
    // Mostly one or two changes, so most deliveries still get past the parser into sync.
    mutations: fc.oneof({ weight: 1, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 6, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 2 }) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 3, maxLength: 6 }) }),
    id: fc.oneof(fc.uuid(), fc.string({ unit: 'binary', minLength: 1, maxLength: 200 })).map((s) => (s.trim() === '' || /[\r\n,\0]/.test(s) ? 'msg_x' : s)),
    // Now and then an injected queue or secret-store failure: the only 5xx allowed.
    fail: fc.oneof({ weight: 48, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant('queue' as const) }, { weight: 1, arbitrary: fc.constant('secrets' as const) }),
  });
  const raw = fc.record({
    kind: fc.constant('raw' as const),
    connectionId: fc.oneof(fc.constantFrom(...Object.values(CONNECTION_OF), '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', ''), fc.string({ unit: 'binary', maxLength: 80 })),
    headers: fc.dictionary(fc.constantFrom('authorization', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'svix-id', 'svix-signature', 'svix-timestamp', 'x-content-signature', 'content-type', '__proto__'), fc.string({ maxLength: 60 }), { maxKeys: 4 }),
    body: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 3 })),
  });
  return fc.oneof({ weight: 6, arbitrary: signed }, { weight: 3, arbitrary: optional }, { weight: 1, arbitrary: raw });
}

// ---- The system under test.

/** A queue that holds what ingest sends, refusing (like SQS) any entry that breaks SQS's rules. */
class CheckedQueue implements Queue {
  sent: Array<{ message: QueueMessage; body: string }> = [];
  failing = false;
  async send(messages: QueueMessage[]): Promise<void> {
    if (this.failing) throw new Error('injected enqueue failure');
    for (const message of messages) {
      const entry = sqsEntry(message);
      const problem = sqsEntryProblem(entry);
      if (problem) throw new Error(`SQS would refuse the message: ${problem}`);
      this.sent.push({ message, body: entry.MessageBody });
    }
  }
  async delay(): Promise<void> {}
  async deadLetter(): Promise<void> {}
}

class FlakySecrets implements SecretStore {
  failing = false;
  constructor(private readonly inner: SecretStore) {}
  get(name: string): Promise<unknown> {
    return this.failing ? Promise.reject(new Error('injected secret-store failure')) : this.inner.get(name);
  }
}

/** The real adapter's `desired` record (field mapping, limits, time zones); the target call itself always succeeds. */
function memoryTargets(config: Config, secrets: SecretStore, store: DynamoDbStore): Partial<Record<TargetName, Target>> {
  const real = createTargets({ config, secrets, store });
  const out: Partial<Record<TargetName, Target>> = {};
  for (const [name, target] of Object.entries(real) as Array<[TargetName, Target]>) {
    out[name] = {
      name,
      desired: (reservation, property) => target.desired(reservation, property),
      ...(target.dueAt ? { dueAt: (reservation, property) => target.dueAt!(reservation, property) } : {}),
      async apply({ desired, fingerprint }) {
        JSON.stringify(desired); // what would go on the wire
        const targetIds: Record<string, string> = desired === null ? {} : { id: 'mem' };
        return { action: desired === null ? 'deleted' : 'created', patch: { status: desired === null ? 'absent' : 'synced', appliedFingerprint: fingerprint, targetIds } };
      },
    };
  }
  return out;
}

/** Thin events are completed from what they carried (no PMS API in process). */
const partialFetcher: Fetcher = {
  async fetchReservation(ref) {
    return ref.partial ?? null;
  },
  async fetchClientReservations() {
    return [];
  },
};

export interface FuzzReport {
  cases: number;
  seed: number;
  seconds: number;
  answers: Record<string, number>;
  messagesQueued: number;
  syncOutcomes: Record<string, number>;
  slowestMessage: { ms: number; kind: string } | null;
  peakRssMb: number;
  violations: number;
}

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** fast-check's replay path for a failing case. */
  path?: string;
}

export async function runIngestFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const embedded = await startEmbeddedStore('fuzz');
  try {
    const config = parseConfig(JSON.parse(readFileSync(new URL('../../config/guest-sync.example.json', import.meta.url), 'utf8')));
    const { store } = embedded;
    const secrets = new FlakySecrets(new LocalSecretStore({}, [new URL('../../config/secrets.example.json', import.meta.url).pathname]));
    const queue = new CheckedQueue();
    const ingest = createIngestHandler({ config, secrets, queue, now: Date.now });
    const syncDeps: SyncDeps = { config, store, targets: memoryTargets(config, secrets, store), now: Date.now, fetchers: () => partialFetcher };
    const all = fixtures();
    const optionalFixtures = all.flatMap((f, i) => (OPTIONAL_FIELDS[f.name] ? [i] : []));
    // What each fixture gets unchanged: what its optional-only variants must get too.
    const baseline = new Map<number, number>();

    const report: FuzzReport = { cases: 0, seed: options.seed, seconds: 0, answers: {}, messagesQueued: 0, syncOutcomes: {}, slowestMessage: null, peakRssMb: 0, violations: 0 };
    const bump = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);
    const started = Date.now();

    const property = fc.asyncProperty(caseArbitrary(all.length, optionalFixtures), async (fuzzCase) => {
      report.cases++;
      let connectionId: string;
      let headers: Record<string, string>;
      let body: string;
      let token: string | undefined;
      if (fuzzCase.kind === 'signed') {
        const fixture = all[fuzzCase.fixture]!;
        connectionId = CONNECTION_OF[fixture.source]!;
        token = URL_TOKEN_OF[fixture.source];
        body = JSON.stringify(mutate(fixture.body, fuzzCase.mutations)) ?? 'null';
        headers = { 'content-type': 'application/json', ...SIGNERS[fixture.source]!(body, Date.now(), fuzzCase.id) };
      } else if (fuzzCase.kind === 'optional') {
        const fixture = all[fuzzCase.fixture]!;
        const fields = OPTIONAL_FIELDS[fixture.name]!;
        connectionId = CONNECTION_OF[fixture.source]!;
        token = URL_TOKEN_OF[fixture.source];
        body = JSON.stringify(fuzzCase.changes.reduce((b, change) => setAt(b, fields[change.field % fields.length]!, change.value), fixture.body));
        headers = { 'content-type': 'application/json', ...SIGNERS[fixture.source]!(body, Date.now(), fuzzCase.id) };
      } else {
        ({ connectionId, headers, body } = fuzzCase);
      }
      const injected = fuzzCase.kind === 'signed' ? fuzzCase.fail : undefined;
      queue.failing = injected === 'queue';
      secrets.failing = injected === 'secrets';
      queue.sent = [];
      const event = toApiGatewayEvent({ path: `/webhooks/${connectionId}`, connectionId, ...(token !== undefined ? { token } : {}), headers, body: Buffer.from(body, 'utf8') });
      const answer = (await ingest(event, localContext('fuzz-ingest', 10_000))) as APIGatewayProxyStructuredResultV2;
      const status = answer.statusCode ?? 0;
      const code = (JSON.parse(answer.body ?? '{}') as { error?: { code?: string } }).error?.code ?? '-';
      bump(report.answers, `${status} ${code}`);
      const documented =
        status === 200 || status === 202 || (status >= 400 && status < 500 && DOCUMENTED_4XX.has(code)) || (status === 503 && injected !== undefined);
      if (!documented) throw new Error(`ingest answered ${status} ${code}: ${answer.body}`);
      if (fuzzCase.kind === 'optional') {
        const expected = baseline.get(fuzzCase.fixture) ?? (await baselineOf(fuzzCase.fixture));
        if (status !== expected) throw new Error(`a bad optional field changed the answer from ${expected} to ${status} ${code}: ${answer.body}`);
      }
      if (status !== 202 && queue.sent.length > 0) throw new Error(`ingest answered ${status} but queued ${queue.sent.length} message(s)`);

      for (const sent of queue.sent) {
        report.messagesQueued++;
        const read = readQueueMessage(sent.body);
        if ('error' in read) throw new Error(`sync cannot read a message ingest sent: ${read.error}`);
        const t0 = performance.now();
        const outcome = await syncMessage(read.message, syncDeps);
        const ms = performance.now() - t0;
        if (!report.slowestMessage || ms > report.slowestMessage.ms) report.slowestMessage = { ms: Math.round(ms * 10) / 10, kind: read.message.kind };
        if (outcome.unrouted) bump(report.syncOutcomes, 'unrouted');
        if (outcome.targets.length === 0 && !outcome.unrouted && !outcome.retry) bump(report.syncOutcomes, 'nothing to do');
        for (const target of outcome.targets) {
          if (target.action === 'failed' && !target.error?.permanent) throw new Error(`${target.target} failed transiently: ${target.error?.code}`);
          bump(report.syncOutcomes, target.error ? `failed permanently: ${target.error.code}` : target.action);
        }
        if (outcome.retry && !DOCUMENTED_TRANSIENT.has(outcome.retry.code)) throw new Error(`sync asked to retry (${outcome.retry.code}): ${outcome.retry.message}`);
      }
      report.peakRssMb = Math.max(report.peakRssMb, Math.round(process.memoryUsage().rss / 1_048_576));
    });

    async function baselineOf(index: number): Promise<number> {
      const fixture = all[index]!;
      const body = JSON.stringify(fixture.body);
      const headers = { 'content-type': 'application/json', ...SIGNERS[fixture.source]!(body, Date.now(), `baseline-${index}`) };
      const token = URL_TOKEN_OF[fixture.source];
      const event = toApiGatewayEvent({ path: '/webhooks/x', connectionId: CONNECTION_OF[fixture.source]!, ...(token !== undefined ? { token } : {}), headers, body: Buffer.from(body) });
      const answer = (await ingest(event, localContext('fuzz-ingest', 10_000))) as APIGatewayProxyStructuredResultV2;
      baseline.set(index, answer.statusCode ?? 0);
      return answer.statusCode ?? 0;
    }

    const result = await fc.check(property, { numRuns: options.cases, seed: options.seed, ...(options.path ? { path: options.path } : {}), endOnFailure: false });
    report.seconds = Math.round((Date.now() - started) / 100) / 10;
    report.violations = result.failed ? 1 : 0;
    if (result.failed) {
      // Printed shrunk, with what replays it.
      const cause = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
      throw new Error(`${fc.defaultReportMessage(result) ?? 'fuzz property failed'}\nThe violation: ${cause}\nReplay it: npm run fuzz -- --seed ${result.seed} --path ${result.counterexamplePath}`);
    }
    return report;
  } finally {
    await embedded.stop();
  }
}

export function summary(report: FuzzReport): string {
  const lines = [
    `fuzz: ${report.cases} cases, seed ${report.seed}, ${report.seconds} s, ${report.violations} violations`,
    'answers:',
    ...Object.entries(report.answers)
      .sort(([, a], [, b]) => b - a)
      .map(([key, n]) => `  ${key.padEnd(34)} ${n}`),
    `messages queued and synced: ${report.messagesQueued}`,
    ...Object.entries(report.syncOutcomes)
      .sort(([, a], [, b]) => b - a)
      .map(([key, n]) => `  ${key.padEnd(34)} ${n}`),
    `slowest message: ${report.slowestMessage ? `${report.slowestMessage.ms} ms (${report.slowestMessage.kind})` : '-'}`,
    `peak memory (RSS): ${report.peakRssMb} MB`,
  ];
  return lines.join('\n');
}
