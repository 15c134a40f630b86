import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from './zod.ts';
import { loadConfigFile, type Config } from './config.ts';
import { ConfigStore } from './config-store.ts';
import { logger } from './powertools.ts';
import { SqsQueue, type Queue } from './queue.ts';
import { LocalSecretStore, type SecretStore } from './secrets.ts';
import { SecretsManagerStore } from './secrets-manager.ts';

/**
 * Everything a handler needs, built once per execution environment from its
 * environment variables (set by CDK on AWS, by the local stack on a laptop). AWS SDK
 * endpoints come from the standard AWS_ENDPOINT_URL_* variables when set.
 */
const RuntimeEnv = z.object({
  GUEST_SYNC_CONFIG: z.string().check(z.minLength(1, 'GUEST_SYNC_CONFIG must name the config file')),
  GUEST_SYNC_TABLE: z.string().check(z.minLength(1)),
  GUEST_SYNC_QUEUE_URL: z.string().check(z.minLength(1)),
  /** Sync only: where it sets aside a message it cannot read (see readQueueMessage). */
  GUEST_SYNC_DLQ_URL: z.optional(z.string().check(z.minLength(1))),
  /** Sync only: JSON of target name → the queue URL of that target's lane (sync.ts); none: no lanes. */
  GUEST_SYNC_LANE_QUEUE_URLS: z.pipe(
    z._default(z.string(), '{}'),
    z.transform((text, ctx) => {
      const parsed = z.record(z.string(), z.string().check(z.minLength(1))).safeParse(safeJson(text));
      if (parsed.success) return parsed.data;
      ctx.issues.push({ code: 'custom', message: 'must be a JSON object of target name to queue URL', input: text });
      return z.NEVER;
    }),
  ),
  GUEST_SYNC_SECRETS: z._default(z.enum(['secretsmanager', 'local']), 'local'),
  GUEST_SYNC_SECRET_PREFIX: z._default(z.string(), ''),
  /** Local only: JSON files of secret name → value, later ones overriding earlier ones. */
  GUEST_SYNC_SECRETS_FILES: z._default(z.string(), ''),
  /** How long a function trusts the config it read from the table (config without redeploy). */
  GUEST_SYNC_CONFIG_CACHE_SECONDS: z._default(z.coerce.number().check(z.gte(0)), 60),
});

/**
 * Each DynamoDB, SQS and Secrets Manager call a handler makes. The SDK waits forever by default:
 * a call that hangs (a dead connection) held the invocation until Lambda's timeout. Now an attempt
 * gives up after 1.5 s (answers take milliseconds) and the SDK tries again (3 attempts for SQS,
 * 4 for DynamoDB: about 7 s at worst): ingest answers a hung queue or table with a 5xx of its own
 * inside its 10 s, and sync's message fails and is retried while the batch's others go on.
 */
export const AWS_CALL_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 1_500, throwOnRequestTimeout: true };

/**
 * The SDK's own warnings (a connection pool at capacity, a credentials mix-up) go to stderr, as
 * with its default logger. Said outright because the SDK tells its default apart by class name,
 * and the bundles do not keep class names (infra/bundling.ts). Never `info` or `error`: the SDK
 * passes each call's input there, and inputs hold guest data.
 */
const AWS_SDK_LOGGER = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (...content: unknown[]) => console.warn(...content),
  error: () => {},
};

/** What every client the functions make is given, whatever its endpoint. */
const FUNCTION_CLIENT_SETTINGS = { requestHandler: AWS_CALL_TIMEOUTS, logger: AWS_SDK_LOGGER };

export interface Runtime {
  /** The bundled config file: the fallback until a config is pushed. Handlers read `configStore`. */
  config: Config;
  /** The active config (pushed with `guest-sync config push`, else the bundled file), cached briefly. */
  configStore: ConfigStore;
  secrets: SecretStore;
  queue: Queue;
  /**
   * The table's client and name. The store over them (`new DynamoDbStore(dynamodb, tableName)`) is
   * built by each handler: sync and the sweep at load, ingest only when it first parks a burst, so
   * that its cold start does not load the store's code and item schemas (docs/throughput.md).
   */
  dynamodb: DynamoDBClient;
  tableName: string;
}

export function runtimeFromEnv(env: Record<string, string | undefined>): Runtime {
  const parsed = RuntimeEnv.safeParse(env);
  if (!parsed.success) {
    throw new Error(`guest-sync environment is incomplete: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const settings = parsed.data;
  const config = loadConfigFile(settings.GUEST_SYNC_CONFIG);
  // The queue URL's host is a local name with fauxqs; always use the configured endpoint.
  const sqs = new SQSClient({ ...clientConfig(env, 'AWS_ENDPOINT_URL_SQS'), useQueueUrlAsEndpoint: false, ...FUNCTION_CLIENT_SETTINGS });
  const secrets =
    settings.GUEST_SYNC_SECRETS === 'secretsmanager'
      ? new SecretsManagerStore(new SecretsManagerClient(FUNCTION_CLIENT_SETTINGS), settings.GUEST_SYNC_SECRET_PREFIX)
      : new LocalSecretStore(env, settings.GUEST_SYNC_SECRETS_FILES.split(',').filter((f) => f !== ''));
  const dynamodb = new DynamoDBClient({ ...clientConfig(env, 'AWS_ENDPOINT_URL_DYNAMODB'), ...FUNCTION_CLIENT_SETTINGS });
  return {
    config,
    configStore: new ConfigStore(dynamodb, settings.GUEST_SYNC_TABLE, config, {
      cacheMs: settings.GUEST_SYNC_CONFIG_CACHE_SECONDS * 1000,
      onInvalid: (message) => logger.error(message),
    }),
    secrets,
    dynamodb,
    tableName: settings.GUEST_SYNC_TABLE,
    queue: new SqsQueue(sqs, settings.GUEST_SYNC_QUEUE_URL, settings.GUEST_SYNC_DLQ_URL, settings.GUEST_SYNC_LANE_QUEUE_URLS),
  };
}

/**
 * The active config plus whatever is built from it (e.g. target adapters), rebuilt only when
 * the config's hash changes, so adapters keep their token memory and pacing between calls.
 */
export function liveConfig<T>(configStore: ConfigStore, build: (config: Config) => T): () => Promise<{ config: Config } & T> {
  let built: { hash: string; value: { config: Config } & T } | undefined;
  return async () => {
    const active = await configStore.current();
    if (built?.hash !== active.hash) built = { hash: active.hash, value: { config: active.config, ...build(active.config) } };
    return built.value;
  };
}

/** Explicit local endpoints (and dummy credentials) when the env names one; otherwise the SDK defaults. */
export function clientConfig(env: Record<string, string | undefined>, endpointVar: string) {
  const endpoint = env[endpointVar] ?? env.AWS_ENDPOINT_URL;
  if (!endpoint) return {};
  return {
    endpoint,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test' },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
