import { readFileSync } from 'node:fs';
import { GuestSyncError } from './errors.ts';
import { sha256Hex, stableStringify } from './hash.ts';
import * as z from './zod.ts';
import { isObject, own } from './own.ts';
import { parseCidr } from './source-ip.ts';
import { isTimeZone } from './time.ts';

/**
 * The one declarative config file: connections (which PMS, how deliveries are verified,
 * where the secret lives) with their properties, and targets. Secrets are never in it,
 * only references to them (resolved by `secrets.ts`).
 */

export const pmsTypes = ['hostaway', 'generic', 'guesty', 'smily', 'lodgify', 'hospitable', 'smoobu', 'apaleo', 'mews', 'cloudbeds'] as const;

/** PMSs whose webhooks lack data guest-sync needs, so the sync worker reads it from their API. */
export const pmsTypesThatFetch: ReadonlySet<PmsType> = new Set<PmsType>(['guesty', 'smily', 'lodgify', 'hospitable', 'smoobu', 'apaleo', 'mews', 'cloudbeds']);

/**
 * The config's schemas, built on the first `parseConfig`: a function whose bundled config was
 * validated by its build (loadConfigFile) never builds them at its cold start.
 */
function buildConfigSchema() {
  const secretRef = z.string().check(z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/, 'expected a secret name of letters, digits, "-" or "_"'));

  const localTime = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time HH:MM'));

  /** An IPv4 or IPv6 CIDR (a bare address is a /32 or /128). */
  const cidr = z.string().check(z.refine((value) => parseCidr(value) !== undefined, 'expected an IP range in CIDR notation such as "38.80.170.0/24"'));

  const timeZone = z.string().check(z.refine(isTimeZone, 'expected an IANA time zone such as "Europe/Stockholm"'));

  const MinutRoute = z.strictObject({
    homeId: z.string().check(z.minLength(1)),
    /**
     * The home also gets guests from Minut's own PMS connector: list its guests before each create
     * and leave a read-only match alone. Elsewhere a create looks up only when an earlier create of
     * ours may have happened without its answer (docs/targets.md).
     */
    nativeIntegration: z._default(z.boolean(), false),
  });

  /** Room per PMS unit, for properties whose reservations name a unit; `roomNumber`/`roomId` otherwise. */
  const roomsByUnit = z.optional(z.record(z.string().check(z.minLength(1)), z.string().check(z.minLength(1))));

  const RecepaiRoute = z.strictObject({
    /** The hotel's slug, e.g. "grand-hotel": the `{slug}` in RecepAI's paths. */
    hotelSlug: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'expected a RecepAI hotel slug such as "grand-hotel"')),
    roomNumber: z.string().check(z.minLength(1)),
    rooms: roomsByUnit,
  });

  const KasifyRoute = z.strictObject({
    propertyId: z.string().check(z.minLength(1)),
  });

  const HostelmateRoute = z.strictObject({
    /**
     * Which HostelMate property (hostel) this is, naming its key in the credentials secret:
     * HostelMate issues one master key per property. Absent: the secret's default `apiKey`.
     */
    account: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected a short name such as "seaside-hostel"'))),
    /** The room or room-type UUID bookings are made in. */
    roomId: z.string().check(z.minLength(1)),
    rooms: roomsByUnit,
    /**
     * How each night's `amount` (integer minor units, required by HostelMate) is filled: the
     * canonical reservation carries no price, so a fixed amount per night (0 by default).
     */
    nightlyAmount: z._default(z.strictObject({ fixed: z.int().check(z.nonnegative()) }), { fixed: 0 }),
  });

  const PropertyConfig = z.strictObject({
    name: z.optional(z.string()),
    /**
     * `shadow`: everything runs except the target calls, which are recorded instead (status,
     * trace), so an operator can check a new property before it goes live. Absent: `live`.
     */
    mode: z.optional(z.enum(['live', 'shadow'])),
    timeZone,
    checkInTime: z._default(localTime, '15:00'),
    checkOutTime: z._default(localTime, '11:00'),
    /** ISO 3166-1 alpha-2; the default region for phone numbers without a country code. */
    country: z.optional(z.string().check(z.regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 country code such as "SE"'))),
    targets: z.strictObject({
      minut: z.optional(MinutRoute),
      recepai: z.optional(RecepaiRoute),
      kasify: z.optional(KasifyRoute),
      hostelmate: z.optional(HostelmateRoute),
    }),
  });

  const PmsType = z.enum(pmsTypes);

  /** How the sync worker reads a PMS's API (notify-then-fetch). */
  const PmsApiConfig = z.strictObject({
    /**
     * Guesty `https://open-api.guesty.com`, Smily `https://www.bookingsync.com`, Lodgify
     * `https://api.lodgify.com`, Hospitable `https://public.api.hospitable.com/v2`, Smoobu
     * `https://login.smoobu.com`, apaleo `https://api.apaleo.com`, Mews `https://api.mews.com`,
     * Cloudbeds `https://api.cloudbeds.com/api/v1.3`; the sandbox's `/<pms>` locally.
     */
    baseUrl: z.url(),
    /** Where an OAuth token is granted when not under `baseUrl` (apaleo: `https://identity.apaleo.com/connect/token`). */
    tokenUrl: z.optional(z.url()),
    /**
     * Secret holding the API credentials (read by the sync function only): Guesty and Smily
     * `{"clientId","clientSecret"}`, Lodgify and Smoobu `{"apiKey"}`, Hospitable `{"accessToken"}`,
     * apaleo `{"clientId","clientSecret"}`, Mews `{"clientToken","accessTokens":{"<EnterpriseId>":"..."}}`,
     * Cloudbeds `{"apiKey"}`.
     */
    credentials: secretRef,
    /** Client-side pacing per connection and worker; defaults per PMS (Guesty 2/s, Smily 2/s, Lodgify 5/s, Hospitable 2/s, Smoobu 5/s). */
    requestsPerSecond: z.optional(z.number().check(z.positive())),
  });

  const ConnectionConfig = z.strictObject({
    pms: PmsType,
    /**
     * Where the delivery-verification secret lives. Its shape depends on the PMS:
     * Hostaway `{"username","password"}` (HTTP Basic), generic `"whsec_..."` (Standard Webhooks),
     * Guesty `"whsec_..."`, Smily the application secret, Lodgify the subscriptions' signing
     * secrets (a string or a list), Hospitable the webhook secret, Smoobu, apaleo, Mews and
     * Cloudbeds `{"urlToken"}`.
     * Each may be wrapped as `{"current": ..., "previous": ...}` during a rotation.
     */
    secret: secretRef,
    /** Required for PMSs whose events are completed or re-read from their API: see `pmsTypesThatFetch`. */
    api: z.optional(PmsApiConfig),
    /**
     * Source addresses allowed to deliver, as CIDRs (e.g. Hospitable's `38.80.170.0/24`);
     * absent: any. A delivery from elsewhere is answered 401 before its secret is read.
     */
    allowedSourceIps: z.optional(z.array(cidr).check(z.minLength(1), z.maxLength(100))),
    properties: z.record(z.string().check(z.minLength(1)), PropertyConfig),
  });

  const MinutTargetConfig = z.strictObject({
    /** `https://api.minut.com/v8` in production; the sandbox's `/minut/v8` locally. */
    baseUrl: z.url(),
    /** Secret holding `{"clientId","clientSecret"}` for the client_credentials grant. */
    credentials: secretRef,
    /**
     * Client-side pacing: Minut allows 5/s in bursts but 120/min sustained. 1.8/s (108/min) keeps a
     * tenth of the minute free, as for Kasify and HostelMate: at 2/s a backlog filled Minut's minute to
     * its last call (bench: 120 of 120), so any jitter between workers would have been a 429.
     */
    requestsPerSecond: z._default(z.number().check(z.positive()), 1.8),
    /** Per-request timeout; a hung answer is given up after it (and retried where safe). */
    timeoutSeconds: z._default(z.number().check(z.positive(), z.lte(30)), 10),
  });

  const RecepaiTargetConfig = z.strictObject({
    /** `https://app.recepai.ai/api/pms/v1` in production; the sandbox's `/recepai/api/pms/v1` locally. */
    baseUrl: z.url(),
    /** Secret holding `{"apiKey":"pms_live_..."}` (a `pms_test_` key validates but stores nothing). */
    credentials: secretRef,
    /** RecepAI publishes no number; 2/s with a burst of 5 keeps well clear of any sane limit. */
    requestsPerSecond: z._default(z.number().check(z.positive()), 2),
    burst: z._default(z.int().check(z.gte(1)), 5),
    /** Per-request timeout; a hung answer is given up after it (and retried where safe). */
    timeoutSeconds: z._default(z.number().check(z.positive(), z.lte(30)), 10),
  });

  const KasifyTargetConfig = z.strictObject({
    /** `https://api.kasify.com/v1` in production; the sandbox's `/kasify/v1` locally. */
    baseUrl: z.url(),
    /** Secret holding `{"token":"kas_pat_..."}`, a personal access token. */
    credentials: secretRef,
    /** Kasify allows 100 requests/min per token: 1.5/s plus a burst of 10 stays within any minute. */
    requestsPerSecond: z._default(z.number().check(z.positive()), 1.5),
    burst: z._default(z.int().check(z.gte(1)), 10),
    /** Per-request timeout; a hung answer is given up after it (and retried where safe). */
    timeoutSeconds: z._default(z.number().check(z.positive(), z.lte(30)), 10),
  });

  const HostelmateTargetConfig = z.strictObject({
    /** `https://api.hostelmate.co/api/v1` in production; the sandbox's `/hostelmate/api/v1` locally. */
    baseUrl: z.url(),
    /** Secret holding `{"apiKey":"hm_live_..."}`, the property's master key. */
    credentials: secretRef,
    /** HostelMate allows 120 requests/min per key and caller IP: 1.8/s plus a burst of 10 stays within any minute. */
    requestsPerSecond: z._default(z.number().check(z.positive()), 1.8),
    burst: z._default(z.int().check(z.gte(1)), 10),
    /** Per-request timeout; a hung answer is given up after it (and retried where safe). */
    timeoutSeconds: z._default(z.number().check(z.positive(), z.lte(30)), 10),
  });

  /** When a target that keeps failing is paused (see functions/sync/circuit-breaker.ts). */
  const CircuitBreakerConfig = z.strictObject({
    /** Consecutive outage failures (5xx, network) across all reservations that pause the target. */
    failureThreshold: z._default(z.int().check(z.gte(1)), 5),
    /** How long a paused target is left alone before work for it is tried again. */
    pauseSeconds: z._default(z.int().check(z.gte(1), z.lte(86_400)), 300),
    /** A target's own failed attempts in a row (not SQS receives) after which its work is parked as pending for the sweep. */
    attemptsBeforePending: z._default(z.int().check(z.gte(1), z.lte(4)), 3),
  });

  const Config = z.strictObject({
    /** Days guest data is kept after checkout before DynamoDB expires it. */
    retentionDays: z._default(z.int().check(z.gte(1), z.lte(3650)), 30),
    /** Longest stay accepted, in nights: a longer one is refused (400 stay_too_long). Mid-term rentals fit the default. */
    maxStayNights: z._default(z.int().check(z.gte(1), z.lte(3660)), 400),
    /** Largest webhook body accepted, in bytes. */
    maxBodyBytes: z._default(z.int().check(z.gte(1024)), 1_048_576),
    connections: z.record(z.string().check(z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/, 'expected a connection id of letters, digits, "-" or "_"')), ConnectionConfig),
    targets: z.strictObject({
      minut: z.optional(MinutTargetConfig),
      recepai: z.optional(RecepaiTargetConfig),
      kasify: z.optional(KasifyTargetConfig),
      hostelmate: z.optional(HostelmateTargetConfig),
    }),
    circuitBreaker: z._default(CircuitBreakerConfig, { failureThreshold: 5, pauseSeconds: 300, attemptsBeforePending: 3 }),
    /**
     * What happens to the guests guest-sync created through a property, a route to a target or a
     * connection that a `config push` removes (docs/runbook.md "Removing a property"): `leave` them
     * at the target and list them (their states say `offboarded`), or `remove` them as a
     * cancellation would.
     */
    offboarding: z._default(z.enum(['leave', 'remove']), 'leave'),
    /**
     * The per-reservation timeline (`guest-sync trace`): one small write per message sync handles,
     * about $0.62 per 1M events (bench/results.md). `false` writes none.
     */
    trace: z._default(z.boolean(), true),
    /**
     * Fairness (docs/throughput.md): a connection that sends more than `events` events within
     * `windowSeconds` (as one ingest instance counts them) is in a burst. Its further events are
     * parked in the table and moved to the queue `turn` at a time, so the other connections' events
     * are not queued behind a replay. It leaves the burst after a minute under the threshold.
     */
    burstParking: z._default(
      z.strictObject({
        events: z._default(z.int().check(z.gte(1), z.lte(100_000)), 50),
        windowSeconds: z._default(z.int().check(z.gte(1), z.lte(300)), 10),
        turn: z._default(z.int().check(z.gte(1), z.lte(100)), 20),
      }),
      { events: 50, windowSeconds: 10, turn: 20 },
    ),
  });
  return { Config, PropertyConfig };
}
let schemas: ReturnType<typeof buildConfigSchema> | undefined;

/** The config's schemas (built once, on first use). */
export function configSchemas(): ReturnType<typeof buildConfigSchema> {
  return (schemas ??= buildConfigSchema());
}

/** The targets a config can name, in the order of its `targets` object. */
export const targetNames = ['minut', 'recepai', 'kasify', 'hostelmate'] as const satisfies readonly TargetName[];
// Checked: every target of the schema is listed above.
const everyTargetListed: [Exclude<TargetName, (typeof targetNames)[number]>] extends [never] ? true : false = true;
void everyTargetListed;

export type Config = z.infer<ReturnType<typeof buildConfigSchema>['Config']>;
export type ConnectionConfig = Config['connections'][string];
export type PropertyConfig = ConnectionConfig['properties'][string];
export type PmsApiConfig = NonNullable<ConnectionConfig['api']>;
export type PmsType = ConnectionConfig['pms'];
export type TargetName = keyof Config['targets'];

export class ConfigError extends GuestSyncError {
  override name = 'ConfigError';
}

/** Validates a parsed config; the error names each bad field and what was expected. */
export function parseConfig(input: unknown, origin = 'config'): Config {
  const result = configSchemas().Config.safeParse(input);
  if (result.success) {
    checkRoutesHaveTargets(result.data, origin);
    checkFetchingConnectionsHaveApi(result.data, origin);
    return result.data;
  }
  const lines = result.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
  throw new ConfigError(`${origin} is invalid:\n${lines.join('\n')}`);
}

/**
 * The key a bundle's config file carries when the build validated it (`validatedConfigFile`):
 * the SHA-256 of the file's config as written, so that an edit made after the build (by hand, in
 * the console) is validated again like any other file.
 */
export const VALIDATED_BY_BUILD = '$validatedByBuild';

/**
 * A config file's content as the bundles ship it: the config as `parseConfig` returned it
 * (defaults filled in), stamped with its hash. The function that reads it then skips the second
 * validation of what its own build validated: about 10 ms of ingest's cold start, which has no
 * other use for the config's schemas (docs/throughput.md, "Cold start"). A config that would not
 * come back the same through JSON is left unstamped, and validated when read.
 */
export function validatedConfigFile(config: Config): string {
  const text = JSON.stringify(config);
  if (stableStringify(parseConfig(JSON.parse(text))) !== stableStringify(config)) return text;
  return JSON.stringify({ ...config, [VALIDATED_BY_BUILD]: sha256Hex(text) });
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (isObject(json) && Object.hasOwn(json, VALIDATED_BY_BUILD)) {
    const { [VALIDATED_BY_BUILD]: stamp, ...config } = json;
    if (stamp === sha256Hex(JSON.stringify(config))) return config as Config; // as the build validated it: no schema built
    json = config; // edited since: validated below
  }
  return parseConfig(json, `config file ${path}`);
}

/** Every secret name the config refers to: one per connection, per connection API credential and per target credential. */
export function secretRefs(config: Config): string[] {
  const refs = new Set<string>();
  for (const connection of Object.values(config.connections)) refs.add(connection.secret);
  for (const connection of Object.values(config.connections)) if (connection.api) refs.add(connection.api.credentials);
  for (const target of Object.values(config.targets)) if (target) refs.add(target.credentials);
  return [...refs].sort();
}

export function findProperty(config: Config, connectionId: string, propertyId: string): PropertyConfig | undefined {
  return own(own(config.connections, connectionId)?.properties, propertyId);
}

function checkRoutesHaveTargets(config: Config, origin: string): void {
  const problems: string[] = [];
  for (const [connectionId, connection] of Object.entries(config.connections)) {
    for (const [propertyId, property] of Object.entries(connection.properties)) {
      for (const target of Object.keys(property.targets) as TargetName[]) {
        if (!config.targets[target]) {
          problems.push(
            `  connections.${connectionId}.properties.${propertyId}.targets.${target}: routes to "${target}", but targets.${target} is not configured`,
          );
        }
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(`${origin} is invalid:\n${problems.join('\n')}`);
}

/** A PMS whose events are completed by a fetch cannot work without its API (checked here, not with
 * a zod refinement, so the connection schema stays extendable). */
function checkFetchingConnectionsHaveApi(config: Config, origin: string): void {
  const problems = Object.entries(config.connections)
    .filter(([, connection]) => pmsTypesThatFetch.has(connection.pms) && connection.api === undefined)
    .map(([id, connection]) => `  connections.${id}.api: required for this pms ("${connection.pms}"): {"baseUrl", "credentials"} of the PMS API the sync worker reads reservations and guests from`);
  if (problems.length > 0) throw new ConfigError(`${origin} is invalid:\n${problems.join('\n')}`);
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

