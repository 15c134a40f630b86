import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { loadConfigFile, type Config } from './config.ts';
import { DynamoDbStore } from './dynamodb-store.ts';
import { SqsQueue, type Queue } from './queue.ts';
import { LocalSecretStore, SecretsManagerStore, type SecretStore } from './secrets.ts';
import type { Store } from './store.ts';

/**
 * Everything a handler needs, built once per execution environment from its
 * environment variables (set by CDK on AWS, by the local stack on a laptop). AWS SDK
 * endpoints come from the standard AWS_ENDPOINT_URL_* variables when set.
 */
const RuntimeEnv = z.object({
  GUEST_SYNC_CONFIG: z.string().min(1, 'GUEST_SYNC_CONFIG must name the config file'),
  GUEST_SYNC_TABLE: z.string().min(1),
  GUEST_SYNC_QUEUE_URL: z.string().min(1),
  GUEST_SYNC_SECRETS: z.enum(['secretsmanager', 'local']).default('local'),
  GUEST_SYNC_SECRET_PREFIX: z.string().default(''),
  /** Local only: JSON files of secret name → value, later ones overriding earlier ones. */
  GUEST_SYNC_SECRETS_FILES: z.string().default(''),
});

export interface Runtime {
  config: Config;
  secrets: SecretStore;
  store: Store;
  queue: Queue;
}

export function runtimeFromEnv(env: Record<string, string | undefined>): Runtime {
  const parsed = RuntimeEnv.safeParse(env);
  if (!parsed.success) {
    throw new Error(`guest-sync environment is incomplete: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const settings = parsed.data;
  const config = loadConfigFile(settings.GUEST_SYNC_CONFIG);
  // The queue URL's host is a local name with fauxqs; always use the configured endpoint.
  const sqs = new SQSClient({ ...clientConfig(env, 'AWS_ENDPOINT_URL_SQS'), useQueueUrlAsEndpoint: false });
  const secrets =
    settings.GUEST_SYNC_SECRETS === 'secretsmanager'
      ? new SecretsManagerStore(new SecretsManagerClient({}), settings.GUEST_SYNC_SECRET_PREFIX)
      : new LocalSecretStore(env, settings.GUEST_SYNC_SECRETS_FILES.split(',').filter((f) => f !== ''));
  return {
    config,
    secrets,
    store: new DynamoDbStore(new DynamoDBClient(clientConfig(env, 'AWS_ENDPOINT_URL_DYNAMODB')), settings.GUEST_SYNC_TABLE),
    queue: new SqsQueue(sqs, settings.GUEST_SYNC_QUEUE_URL),
  };
}

/** Explicit local endpoints (and dummy credentials) when the env names one; otherwise the SDK defaults. */
function clientConfig(env: Record<string, string | undefined>, endpointVar: string) {
  const endpoint = env[endpointVar] ?? env.AWS_ENDPOINT_URL;
  if (!endpoint) return {};
  return {
    endpoint,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test' },
  };
}
