import { leaseMs, sleepWithinBudget } from './budget.ts';
import { RetryableError } from './errors.ts';
import type { HttpResponse } from './http-client.ts';
import type { Store } from './store.ts';

/**
 * An OAuth access token shared by every worker through the store (Minut, Guesty and Smily
 * allow few grants, Guesty only a handful a day per client): read from memory, else from the
 * store, else granted by the one worker that takes the refresh lease while the others wait for
 * it. The lease outlives the grant it guards (every attempt at its full timeout, plus backoff
 * and a margin), so a slow grant never lets a second worker ask for a token of its own.
 */
export interface TokenGrant {
  accessToken: string;
  expiresInSeconds: number;
}

export interface SharedTokenOptions {
  /** Names the API in errors, e.g. "minut". */
  name: string;
  /** Store key: one per API and credentials. */
  key: string;
  /** This worker, to own the lease. */
  owner: string;
  store: Store;
  /** One grant request; its HTTP client's timeout and attempts size the lease. */
  grant: () => Promise<TokenGrant>;
  grantTimeoutMs: number;
  grantAttempts: number;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Answers that mean "this token is no longer valid"; default 401 (Hostaway says 403). */
  rejectedStatuses?: readonly number[];
}

const POLL_MS = 150;

export class SharedToken {
  private memory: { accessToken: string; refreshAt: number } | undefined;
  /** The look-up (or grant) in flight: a worker's concurrent calls wait for it instead of polling the store behind their own lease. */
  private fetching: Promise<string> | undefined;
  private readonly leaseMs: number;

  constructor(private readonly options: SharedTokenOptions) {
    this.leaseMs = leaseMs({ timeoutMs: options.grantTimeoutMs, attempts: options.grantAttempts, backoffMs: 1_000 });
  }

  /** A request with the bearer token; a 401 (or another rejected status) drops the token (unless another worker replaced it) and retries once with a fresh one. */
  async call(send: (token: string) => Promise<HttpResponse>): Promise<HttpResponse> {
    const token = await this.get();
    const response = await send(token);
    if (!(this.options.rejectedStatuses ?? [401]).includes(response.status)) return response;
    this.memory = undefined;
    await this.options.store.dropToken(this.options.key, token);
    // A look-up that started before the drop may bring the rejected token back: start afresh.
    this.fetching = undefined;
    return send(await this.get());
  }

  async get(): Promise<string> {
    if (this.memory && this.memory.refreshAt > this.options.now()) return this.memory.accessToken;
    // A cold worker's first batch asks for the token once per message, all at once: one look-up
    // for all of them (else each read the store, lost the lease to the first and polled for it).
    const fetching = (this.fetching ??= this.fetch().finally(() => {
      if (this.fetching === fetching) this.fetching = undefined;
    }));
    return fetching;
  }

  private async fetch(): Promise<string> {
    const { store, key, owner, now } = this.options;
    // Waiting longer than one lease means its holder died: then the lease has run out and we take it.
    const deadline = now() + this.leaseMs * 2;
    for (;;) {
      const cached = await store.getToken(key);
      if (cached?.accessToken && cached.refreshAt && cached.refreshAt > now()) {
        this.memory = { accessToken: cached.accessToken, refreshAt: cached.refreshAt };
        return cached.accessToken;
      }
      if (await store.tryLeaseToken(key, owner, now() + this.leaseMs, now())) return this.refresh();
      if (now() > deadline) throw new RetryableError(`${this.options.name}: timed out waiting for another worker to refresh the token`, 1, 'token_refresh_timeout');
      await sleepWithinBudget(POLL_MS, this.options.sleep ?? defaultSleep, `wait for ${this.options.name}'s token`);
    }
  }

  private async refresh(): Promise<string> {
    const { now } = this.options;
    const token = await this.options.grant();
    const lifetimeMs = token.expiresInSeconds * 1000;
    const expiresAt = now() + lifetimeMs;
    // Refresh ahead of expiry: 5 minutes early, or a tenth of a short lifetime.
    const refreshAt = expiresAt - Math.min(300_000, lifetimeMs / 10);
    await this.options.store.putToken(this.options.key, this.options.owner, token.accessToken, expiresAt, refreshAt);
    this.memory = { accessToken: token.accessToken, refreshAt };
    return token.accessToken;
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
