import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { loadConfigFile, parseConfig, type Config } from '../functions/core/config.ts';
import { ConfigStore } from '../functions/core/config-store.ts';
import { DynamoDbStore } from '../functions/core/dynamodb-store.ts';
import { clientConfig } from '../functions/core/runtime.ts';
import { LocalSecretStore, type SecretStore } from '../functions/core/secrets.ts';
import { SecretsManagerStore } from '../functions/core/secrets-manager.ts';

/**
 * Where the CLI finds the stack: the same variables the functions read (runtimeFromEnv), plus
 * the DLQ. Against the local stack, `npm start` prints them; against AWS they are the stack's
 * outputs (`OperatorEnv`), used with the caller's AWS credentials. Each is checked only by the
 * commands that need it, with a message saying where to get it.
 */
const CliEnv = z.object({
  GUEST_SYNC_TABLE: z.string().optional(),
  GUEST_SYNC_QUEUE_URL: z.string().optional(),
  GUEST_SYNC_DLQ_URL: z.string().optional(),
  /** A local copy of the deployed config file: the fallback while nothing was pushed. */
  GUEST_SYNC_CONFIG: z.string().optional(),
  GUEST_SYNC_SECRETS: z.enum(['secretsmanager', 'local']).default('local'),
  GUEST_SYNC_SECRET_PREFIX: z.string().default(''),
  GUEST_SYNC_SECRETS_FILES: z.string().default(''),
});

export class CliError extends Error {
  override readonly name = 'CliError';
}

const HOW_TO_SET = 'Run `npm start` and export the lines it prints (local stack), or export the `OperatorEnv` output of the deployed stack (see docs/deploy.md).';

export class CliContext {
  private readonly settings: z.infer<typeof CliEnv>;
  private dynamodbClient: DynamoDBClient | undefined;
  private sqsClient: SQSClient | undefined;

  constructor(private readonly env: Record<string, string | undefined>) {
    const parsed = CliEnv.safeParse(env);
    if (!parsed.success) throw new CliError(`environment is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.settings = parsed.data;
  }

  need(name: 'GUEST_SYNC_TABLE' | 'GUEST_SYNC_QUEUE_URL' | 'GUEST_SYNC_DLQ_URL'): string {
    const value = this.settings[name];
    if (!value) throw new CliError(`${name} is not set. ${HOW_TO_SET}`);
    return value;
  }

  get dynamodb(): DynamoDBClient {
    this.dynamodbClient ??= new DynamoDBClient(clientConfig(this.env, 'AWS_ENDPOINT_URL_DYNAMODB'));
    return this.dynamodbClient;
  }

  get sqs(): SQSClient {
    // As in the functions: fauxqs queue URLs name a local host, so always use the configured endpoint.
    this.sqsClient ??= new SQSClient({ ...clientConfig(this.env, 'AWS_ENDPOINT_URL_SQS'), useQueueUrlAsEndpoint: false });
    return this.sqsClient;
  }

  store(): DynamoDbStore {
    return new DynamoDbStore(this.dynamodb, this.need('GUEST_SYNC_TABLE'));
  }

  /** A store for code that needs one but will not use it here (a target's credential check). */
  storeOrUnused(): DynamoDbStore {
    return new DynamoDbStore(this.dynamodb, this.settings.GUEST_SYNC_TABLE ?? 'unused');
  }

  secrets(): SecretStore {
    return this.settings.GUEST_SYNC_SECRETS === 'secretsmanager'
      ? new SecretsManagerStore(new SecretsManagerClient(clientConfig(this.env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER')), this.settings.GUEST_SYNC_SECRET_PREFIX)
      : new LocalSecretStore(this.env, this.settings.GUEST_SYNC_SECRETS_FILES.split(',').filter((f) => f !== ''));
  }

  /** The config the functions use now: the pushed one, else GUEST_SYNC_CONFIG (the deployed file). */
  async activeConfig(): Promise<{ config: Config; hash: string; origin: string }> {
    const fallbackPath = this.settings.GUEST_SYNC_CONFIG;
    const fallback = fallbackPath ? loadConfigFile(fallbackPath) : undefined;
    const store = new ConfigStore(this.dynamodb, this.need('GUEST_SYNC_TABLE'), fallback ?? EMPTY_CONFIG, {
      onInvalid: (message) => {
        throw new CliError(message);
      },
    });
    const active = await store.read();
    if (active.origin === 'bundled' && !fallback) {
      throw new CliError('no config was pushed to this stack yet; pass --file <config.json> or set GUEST_SYNC_CONFIG to the deployed config file');
    }
    return { config: active.config, hash: active.hash, origin: active.origin === 'pushed' ? 'pushed config' : `deployed file ${fallbackPath}` };
  }

  configStore(fallback: Config = EMPTY_CONFIG): ConfigStore {
    return new ConfigStore(this.dynamodb, this.need('GUEST_SYNC_TABLE'), fallback);
  }

  close(): void {
    this.dynamodbClient?.destroy();
    this.sqsClient?.destroy();
  }
}

/** No connections, no targets, every default: the fallback when nothing else is known. */
const EMPTY_CONFIG: Config = parseConfig({ connections: {}, targets: {} });
