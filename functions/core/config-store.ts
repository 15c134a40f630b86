import { DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from './zod.ts';
import { parseConfig, type Config } from './config.ts';
import { fingerprint } from './hash.ts';

/**
 * Config without redeploy. The active config lives in the state table as one item
 * (`pk = CONFIG`, `sk = ACTIVE`), written by `guest-sync config push` after it validated the
 * file. Functions read it with a short cache, so a pushed change (a new property) reaches
 * every function within `cacheMs` without a `cdk deploy`.
 *
 * Precedence: a pushed item, while it exists, wins over the config file shipped in the bundle;
 * the bundled file is the fallback used until the first push (or after `config reset`).
 * The item holds no guest data, so it has no `ttl`. It is validated again on every read: a
 * pushed item that does not parse (written by hand, or by an older version) is never used;
 * the last good config stays in force and the error is logged.
 */

export const CONFIG_ITEM_KEY = { pk: 'CONFIG', sk: 'ACTIVE' } as const;
/**
 * The item is read and written with the plain client, not the document client: four string and
 * number attributes need no marshalling library, and ingest, whose only table read this is,
 * then loads none at its cold start (docs/throughput.md, "Cold start").
 */
const ITEM_KEY: Record<string, AttributeValue> = { pk: { S: CONFIG_ITEM_KEY.pk }, sk: { S: CONFIG_ITEM_KEY.sk } };
const DEFAULT_CACHE_MS = 60_000;

const ConfigItem = z.object({
  data: z.string(),
  /** Fingerprint of the validated config (what `config check`/`status` show as its version). */
  hash: z.string(),
  /** Epoch ms. */
  pushedAt: z.number(),
  pushedBy: z._default(z.string(), 'unknown'),
});

export interface ActiveConfig {
  config: Config;
  /** Fingerprint of the parsed config: changes whenever the effective config changes. */
  hash: string;
  origin: 'pushed' | 'bundled';
  pushedAt?: number;
  pushedBy?: string;
}

export function configHash(config: Config): string {
  return fingerprint(config);
}

export class ConfigStore {
  private bundledHash: string | undefined;
  private cached: { value: ActiveConfig; at: number } | undefined;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    /** The config file shipped with the functions; used while nothing was pushed. */
    private readonly bundled: Config,
    private readonly options: { cacheMs?: number; now?: () => number; onInvalid?: (message: string) => void } = {},
  ) {}

  /**
   * The config in force, at most `cacheMs` old. A read error with a cached value keeps the
   * cached one (a DynamoDB hiccup must not stop the pipeline); without one it throws, so the
   * caller answers 5xx / retries rather than acting on a config that may be out of date.
   */
  async current(): Promise<ActiveConfig> {
    const now = (this.options.now ?? Date.now)();
    const cacheMs = this.options.cacheMs ?? DEFAULT_CACHE_MS;
    if (this.cached && now - this.cached.at < cacheMs) return this.cached.value;
    let value: ActiveConfig;
    try {
      value = await this.read();
    } catch (error) {
      if (this.cached) return this.cached.value;
      throw error;
    }
    this.cached = { value, at: now };
    return value;
  }

  /** Reads the item (no cache). An invalid item is reported and the last good config is kept. */
  async read(): Promise<ActiveConfig> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: ITEM_KEY, ConsistentRead: true }));
    if (!out.Item) return this.bundledConfig();
    try {
      const { data, hash, pushedAt, pushedBy } = out.Item;
      const item = ConfigItem.parse({ data: data?.S, hash: hash?.S, pushedAt: pushedAt?.N === undefined ? undefined : Number(pushedAt.N), pushedBy: pushedBy?.S });
      const config = parseConfig(JSON.parse(item.data), 'pushed config');
      return { config, hash: configHash(config), origin: 'pushed', pushedAt: item.pushedAt, pushedBy: item.pushedBy };
    } catch (error) {
      const message = `the pushed config item is invalid and is ignored: ${(error as Error).message}`;
      this.options.onInvalid?.(message);
      if (this.cached) return this.cached.value;
      return this.bundledConfig();
    }
  }

  private bundledConfig(): ActiveConfig {
    this.bundledHash ??= configHash(this.bundled); // the file never changes: hashed once
    return { config: this.bundled, hash: this.bundledHash, origin: 'bundled' };
  }

  /** Stores a config that already passed `parseConfig`; returns its hash. */
  async push(config: Config, pushedBy: string, now = Date.now()): Promise<string> {
    // Parse again: a caller can never push something the functions would refuse.
    const valid = parseConfig(config, 'config to push');
    const hash = configHash(valid);
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...ITEM_KEY, data: { S: JSON.stringify(valid) }, hash: { S: hash }, pushedAt: { N: String(now) }, pushedBy: { S: pushedBy } },
      }),
    );
    this.cached = undefined;
    return hash;
  }

  /** Removes the pushed config: the functions fall back to the bundled file. */
  async reset(): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: ITEM_KEY }));
    this.cached = undefined;
  }
}
