import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseSecretValue, SecretNotFoundError, type SecretStore } from './secrets.ts';

// Apart from secrets.ts, which the PMS sources import: a source's chunk then reaches no AWS SDK
// code, and the bundles' shared code splits into fewer files (docs/throughput.md, "Cold start").

const CACHE_MS = 5 * 60_000;

/** Secrets Manager's `<prefix><name>`, each cached for a few minutes so a rotation is picked up without a redeploy. */
export class SecretsManagerStore implements SecretStore {
  private readonly cache = new Map<string, { value: unknown; at: number }>();
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(name: string): Promise<unknown> {
    const hit = this.cache.get(name);
    if (hit && this.now() - hit.at < CACHE_MS) return hit.value;
    const id = `${this.prefix}${name}`;
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: id }));
    if (out.SecretString === undefined || out.SecretString === '') throw new SecretNotFoundError(`secret ${id} has no value yet`);
    const value = parseSecretValue(out.SecretString);
    this.cache.set(name, { value, at: this.now() });
    return value;
  }
}
