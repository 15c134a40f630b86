import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from '../core/zod.ts';
import { fitHint, fitOptionalId, fitRequiredId, fitReservation } from '../core/bounds.ts';
import type { Config } from '../core/config.ts';
import { WebhookError, errorMessage } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import { compileHotParsers, hotParse } from '../core/zod-jit.ts';
import { SourceIpAllowList } from '../core/source-ip.ts';
import { own } from '../core/own.ts';
import { BurstParking } from '../core/parking.ts';
import { count, logger, publishMetrics, withRequestLogKeys } from '../core/powertools.ts';
import { IngestMessage, QUEUE_SCHEMA_VERSION, sqsSafeId, type FetchHints, type Queue } from '../core/queue.ts';
import { LIMITS, type Reservation } from '../core/reservation.ts';
import { liveConfig, type Runtime } from '../core/runtime.ts';
import { carriable, truncate } from '../core/text.ts';
import type { SecretStore } from '../core/secrets.ts';
import { sources } from '../sources/registry.ts';
import type { Delivery, ParsedDelivery, SourceContext, ThinEvent } from '../sources/source.ts';

export interface IngestDeps {
  config: Config;
  secrets: SecretStore;
  queue: Queue;
  now: () => number;
  /** The active config, re-read with a short cache (config without redeploy); `config` when absent. */
  liveConfig?: () => Promise<{ config: Config }>;
  /** Parks a connection's burst instead of queueing it (parking.ts); without it, everything is queued. */
  parking?: BurstParking;
}

// Only what the handler reads of an HTTP API (payload v2) event.
// Ingest's per-request parses are compiled once the process is busy (zod-jit.ts); only ingest's bundle holds the compiler.
compileHotParsers((schema) => z.compile(schema));

const HttpEvent = z.object({
  body: z.optional(z.string()),
  isBase64Encoded: z._default(z.boolean(), false),
  headers: z._default(z.record(z.string(), z.optional(z.string())), {}),
  rawQueryString: z._default(z.string(), ''),
  rawPath: z.optional(z.string()),
  // Set by the HTTP API's routes; a Function URL sends every path, read from rawPath instead.
  pathParameters: z.optional(z.partial(z.object({ connectionId: z.string(), token: z.string() }))),
  requestContext: z.optional(z.partial(z.object({ http: z.optional(z.partial(z.object({ sourceIp: z.string(), method: z.string() }))) }))),
});

/** Which connection a request is for, and its URL token when the path carries one. */
type WebhookRoute = { connectionId: string; token?: string };

/** `/webhooks/{connectionId}` or `/webhooks/{connectionId}/{token}`, as the HTTP API routes them. */
const WEBHOOK_PATH = /^\/webhooks\/([^/]+)(?:\/([^/]+))?\/?$/;

/**
 * The connection and URL token of a request, from the HTTP API's path parameters or else the path
 * itself: `not_webhook` for another path, `malformed` for one that is not valid percent-encoding.
 */
export function webhookRoute(event: Pick<z.infer<typeof HttpEvent>, 'pathParameters' | 'rawPath'>): WebhookRoute | 'not_webhook' | 'malformed' {
  if (event.pathParameters?.connectionId !== undefined) {
    return { connectionId: event.pathParameters.connectionId, ...(event.pathParameters.token !== undefined ? { token: event.pathParameters.token } : {}) };
  }
  const match = WEBHOOK_PATH.exec(event.rawPath ?? '');
  if (!match) return 'not_webhook';
  try {
    return { connectionId: decodeURIComponent(match[1]!), ...(match[2] !== undefined ? { token: decodeURIComponent(match[2]) } : {}) };
  } catch {
    return 'malformed';
  }
}

/**
 * The webhook receiver, `POST /webhooks/{connectionId}` (or `/webhooks/{connectionId}/{token}`
 * for URL-token connections), behind the HTTP API or a Function URL: check the source address,
 * verify on the raw body, parse, normalise, queue, answer 202, well within the PMS's timeout.
 * Bad input gets a 4xx with a stable code and one sentence, and nothing is queued; only a failed
 * enqueue is a 5xx, so the PMS retries.
 */
export function createIngestHandler(deps: IngestDeps) {
  const handler = async (rawEvent: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const parsedEvent = hotParse(HttpEvent, rawEvent);
    if (!parsedEvent.success) return reply(400, { error: { code: 'invalid_request', message: 'The request could not be read.' } });
    const event = parsedEvent.data;
    const route = webhookRoute(event);
    if (route === 'malformed') return reply(400, { error: { code: 'invalid_request', message: 'The request could not be read.' } });
    if (route === 'not_webhook') return reply(404, { error: { code: 'unknown_route', message: 'Webhooks are received at /webhooks/{connectionId}.' } });
    const method = event.requestContext?.http?.method;
    if (method !== undefined && method !== 'POST') return reply(405, { error: { code: 'method_not_allowed', message: 'Webhooks are received with POST.' } });
    const { connectionId } = route;
    // This request's correlation keys, on its lines only; ingest adds the delivery id once verified.
    const keys: Record<string, string> = { connectionId };
    return withRequestLogKeys(keys, () => answer(route, event, keys));
  };

  const answer = async (route: WebhookRoute, event: z.infer<typeof HttpEvent>, keys: Record<string, string>): Promise<APIGatewayProxyStructuredResultV2> => {
    const { connectionId } = route;
    // `source` (the PMS type) feeds the per-source dashboard widgets; low cardinality by design.
    let source = 'unknown';
    try {
      const config = deps.liveConfig ? (await deps.liveConfig()).config : deps.config;
      source = own(config.connections, connectionId)?.pms ?? 'unknown';
      const result = await ingest(route, event, { ...deps, config }, keys);
      if (result.status === 'ignored') {
        count('WebhookIgnored', { source, reason: result.reason.split(':')[0]! });
        logger.info('webhook ignored', { reason: result.reason });
        return reply(200, result);
      }
      // Every delivery counts once, by outcome (accepted, ignored, rejected, failed): their sum is
      // what was received. Counts of one dimension set share one EMF directive: bytes are billed.
      count('WebhookAccepted', { source });
      count('MessagesEnqueued', { source }, result.reservations.length);
      return reply(202, result);
    } catch (error) {
      if (error instanceof WebhookError) {
        count('WebhookRejected', { source, reason: error.code });
        logger.info('webhook rejected', { status: error.statusCode, code: error.code });
        return reply(error.statusCode, { error: { code: error.code, message: error.message } });
      }
      count('WebhookFailed', { source });
      logger.error('webhook could not be handled', { error: errorMessage(error) });
      return reply(500, { error: { code: 'internal_error', message: 'The webhook could not be handled; please retry.' } });
    }
  };

  // Keys scoped per request (withRequestLogKeys) leave nothing on the shared logger to reset.
  // No early-timeout race (middy's default: a timer and an AbortController per request): ingest
  // answers in milliseconds, and its AWS calls give up long before Lambda's timeout (AWS_CALL_TIMEOUTS).
  return middy(handler, { timeoutEarlyInMillis: 0 }).use(injectLambdaContext(logger)).use(publishMetrics());
}

/** Ingest as Lambda runs it, from a runtime built from its environment; the local stack runs the same. */
export function ingestHandlerFor(runtime: Runtime) {
  return createIngestHandler({
    config: runtime.config,
    secrets: runtime.secrets,
    queue: runtime.queue,
    now: Date.now,
    liveConfig: liveConfig(runtime.configStore, () => ({})),
    parking: new BurstParking({
      openStore: async () => new (await import('../core/dynamodb-store.ts')).DynamoDbStore(runtime.dynamodb, runtime.tableName),
      queue: runtime.queue,
      now: Date.now,
    }),
  });
}

type IngestResult =
  | { status: 'ignored'; reason: string }
  | { status: 'accepted'; deliveryId: string; reservations: { reservationId?: string; clientId?: string; propertyId?: string; status: string }[] };

async function ingest({ connectionId, token }: WebhookRoute, event: z.infer<typeof HttpEvent>, deps: IngestDeps, logKeys: Record<string, string>): Promise<IngestResult> {
  const connection = own(deps.config.connections, connectionId);
  if (!connection) throw new WebhookError(404, 'unknown_connection', `No connection named "${truncate(carriable(connectionId), 64)}" is configured.`);

  const bodyBytes = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64') : Buffer.from(event.body ?? '', 'utf8');
  if (bodyBytes.length > deps.config.maxBodyBytes) {
    throw new WebhookError(413, 'payload_too_large', `The body is ${bodyBytes.length} bytes; the limit is ${deps.config.maxBodyBytes}.`);
  }
  const sourceIp = event.requestContext?.http?.sourceIp;
  if (connection.allowedSourceIps && !allowListOf(connection.allowedSourceIps).allows(sourceIp)) {
    throw new WebhookError(401, 'source_ip_not_allowed', 'Deliveries for this connection are accepted only from its PMS\'s addresses.');
  }
  const urlToken = token ?? new URLSearchParams(event.rawQueryString).get('token') ?? undefined;
  const delivery: Delivery = {
    rawBody: bodyBytes.toString('utf8'),
    headers: lowerCaseHeaders(event.headers),
    ...(urlToken !== undefined ? { urlToken } : {}),
    ...(sourceIp !== undefined ? { sourceIp } : {}),
  };
  const loadSource = own(sources, connection.pms);
  if (!loadSource) throw new Error(`no source adapter for PMS "${connection.pms}"`);
  const source = await loadSource();
  const context: SourceContext = { connectionId, connection, now: deps.now() };

  let secret: unknown;
  try {
    secret = await deps.secrets.get(connection.secret);
  } catch (error) {
    // Our misconfiguration, not the sender's: a 5xx makes the PMS retry once it is fixed.
    logger.error('connection secret unavailable', { error: errorMessage(error) });
    throw new WebhookError(503, 'secret_unavailable', 'The connection cannot verify deliveries right now; please retry.');
  }
  const verified = source.verify(delivery, secret, context); // before any parsing
  // The PMS's delivery id as sent when SQS could carry it as an id; otherwise its hash (stable across retries).
  const deliveryId = verified.deliveryId !== undefined ? sqsSafeId(verified.deliveryId) : `sha256:${sha256Hex(bodyBytes)}`;
  logKeys.deliveryId = deliveryId;

  let body: unknown;
  try {
    body = JSON.parse(delivery.rawBody);
  } catch {
    throw new WebhookError(400, 'invalid_json', 'The body is not valid JSON.');
  }
  const parsed = fitParsed(source.parse(body, context), deps.config.maxStayNights);
  if (parsed.kind === 'ignored') return { status: 'ignored', reason: parsed.reason };

  const receivedAt = deps.now();
  const reservations = parsed.kind === 'reservations' ? parsed.reservations : parsed.events.flatMap((e) => (e.kind === 'reservation_ref' && e.partial ? [e.partial] : []));
  for (const reservation of reservations) {
    for (const dropped of reservation.dropped) {
      count('OptionalFieldDropped', { field: dropped.field, reason: dropped.reason });
      logger.info('optional field dropped', { reservationId: reservation.reservationId, field: dropped.field, reason: dropped.reason });
    }
  }
  const v = QUEUE_SCHEMA_VERSION;
  const messages =
    parsed.kind === 'reservations'
      ? parsed.reservations.map((reservation): IngestMessage => ({ v, kind: 'reservation', connectionId, deliveryId, receivedAt, reservation }))
      : parsed.events.map((event): IngestMessage => {
          if (event.kind === 'client_ref') return { v, kind: 'client_ref', connectionId, deliveryId, receivedAt, clientId: event.clientId, hints: event.hints };
          return {
            v,
            kind: 'reservation_ref',
            connectionId,
            deliveryId,
            receivedAt,
            reservationId: event.reservationId,
            ...(event.propertyId !== undefined ? { propertyId: event.propertyId } : {}),
            ...(event.partial ? { partial: event.partial } : {}),
            hints: event.hints,
          };
        });
  // One contract: each message is checked with the very schema sync parses for its kind before it
  // is sent, so a 202 never queues what sync cannot read.
  for (const message of messages) {
    const checked = hotParse(IngestMessage, message);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      logger.error('a normalised delivery broke the queue contract', { path: issue.path.map(String).join('.'), issue: issue.message });
      throw new WebhookError(400, 'invalid_field', `The reservation's ${issue.path.slice(1).map(String).join('.') || 'content'} cannot be carried: ${issue.message.replace(/\.$/, '')}.`);
    }
  }
  try {
    if (deps.parking) await deps.parking.send(connectionId, messages, deps.config.burstParking);
    else await deps.queue.send(messages);
  } catch (error) {
    logger.error('enqueue failed', { error: errorMessage(error) });
    throw new WebhookError(503, 'enqueue_failed', 'The delivery could not be queued; please retry.');
  }
  return {
    status: 'accepted',
    deliveryId,
    reservations:
      parsed.kind === 'reservations'
        ? parsed.reservations.map((r) => ({ reservationId: r.reservationId, propertyId: r.propertyId, status: r.status }))
        : parsed.events.map((e) =>
            e.kind === 'client_ref'
              ? { clientId: e.clientId, status: 'fetch_pending' }
              : { reservationId: e.reservationId, ...(e.propertyId ? { propertyId: e.propertyId } : {}), status: 'fetch_pending' },
          ),
  };
}

/** Every reservation in the canonical model's bounds (bounds.ts), thin events' ids and hints too. */
function fitParsed(parsed: ParsedDelivery, maxStayNights: number): ParsedDelivery {
  if (parsed.kind === 'ignored') return { kind: 'ignored', reason: truncate(carriable(parsed.reason), LIMITS.textLength) };
  const fit = (r: Reservation) => fitReservation(r, { maxStayNights });
  if (parsed.kind === 'reservations') return { kind: 'reservations', reservations: parsed.reservations.map(fit) };
  return {
    kind: 'thin',
    events: parsed.events.map((event): ThinEvent => {
      const hints = fitHints(event.hints);
      if (event.kind === 'client_ref') return { kind: 'client_ref', clientId: fitRequiredId(event.clientId, 'client id'), hints };
      const propertyId = fitOptionalId(event.propertyId);
      return {
        kind: 'reservation_ref',
        reservationId: fitRequiredId(event.reservationId, 'reservation id'),
        ...(propertyId !== undefined ? { propertyId } : {}),
        ...(event.partial ? { partial: fit(event.partial) } : {}),
        hints,
      };
    }),
  };
}

/** Hints are for the fetch only: one that does not fit is left out. */
function fitHints(hints: FetchHints): FetchHints {
  const out: FetchHints = {};
  for (const [key, value] of Object.entries(hints).slice(0, 20)) {
    if (key.length > 64) continue;
    const fitted = typeof value === 'string' ? fitHint(value) : typeof value === 'number' && !Number.isFinite(value) ? undefined : value;
    if (fitted !== undefined) Object.defineProperty(out, key, { value: fitted, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const allowLists = new WeakMap<readonly string[], SourceIpAllowList>();

/** One parsed allow-list per config object (the config is re-read, not mutated). */
function allowListOf(cidrs: readonly string[]): SourceIpAllowList {
  let list = allowLists.get(cidrs);
  if (!list) allowLists.set(cidrs, (list = new SourceIpAllowList(cidrs)));
  return list;
}

function lowerCaseHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}

function reply(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
