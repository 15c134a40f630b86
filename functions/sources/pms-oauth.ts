import * as z from '../core/zod.ts';
import { RetryableError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import type { HttpClient, HttpRequest, HttpResponse } from '../core/http-client.ts';
import { SharedToken, type TokenGrant } from '../core/shared-token.ts';
import type { FetcherDeps } from './fetcher.ts';

/**
 * OAuth client_credentials for a PMS API, the token cached in DynamoDB and shared by every
 * worker (Guesty allows only a handful of token requests a day per client), refreshed ahead
 * of expiry by whichever worker takes the lease (shared-token.ts). A static `{"accessToken"}` secret is used
 * as is (e.g. a Smily account token obtained out of band).
 */

export const PmsCredentials = z.union([
  z.object({ clientId: z.string().check(z.minLength(1)), clientSecret: z.string().check(z.minLength(1)), scope: z.optional(z.string()) }),
  z.object({ accessToken: z.string().check(z.minLength(1)) }),
]);

const TokenResponse = z.object({ access_token: z.string().check(z.minLength(1)), expires_in: z._default(z.number().check(z.positive()), 3600) });


export interface PmsOAuthOptions {
  /** Names the PMS in errors, e.g. "guesty". */
  name: string;
  tokenUrl: string;
  credentialsRef: string;
  /** Scope sent with the grant when the secret names none (Guesty: `open-api`). */
  defaultScope?: string;
  /** How the client authenticates to the token endpoint: in the form body (default) or HTTP Basic (apaleo). */
  clientAuth?: 'body' | 'basic';
  http: HttpClient;
  deps: FetcherDeps;
  owner: string;
  /** Answers that mean the token is no longer valid (default 401; Hostaway answers 403). */
  rejectedStatuses?: readonly number[];
}

export class PmsOAuth {
  private readonly shared: SharedToken;

  constructor(private readonly options: PmsOAuthOptions) {
    this.shared = new SharedToken({
      name: options.name,
      key: `${options.name}#${sha256Hex(`${options.tokenUrl}\n${options.credentialsRef}`).slice(0, 16)}`,
      owner: options.owner,
      store: options.deps.store,
      grant: () => this.grant(),
      grantTimeoutMs: options.http.timeoutMs,
      grantAttempts: options.http.maxAttempts,
      now: options.deps.now ?? Date.now,
      ...(options.deps.sleep ? { sleep: options.deps.sleep } : {}),
      ...(options.rejectedStatuses ? { rejectedStatuses: options.rejectedStatuses } : {}),
    });
  }

  /** A request with the bearer token; a 401 drops the token and retries once with a fresh one. */
  async call(request: HttpRequest): Promise<HttpResponse> {
    try {
      const credentials = await this.credentials();
      const send = (token: string) => this.options.http.request({ ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } });
      // A static token (e.g. a Smily account token obtained out of band) is used as is.
      if ('accessToken' in credentials) return await send(credentials.accessToken);
      return await this.shared.call(send);
    } catch (error) {
      // Name the call, so the recorded reason says which read failed (ids only, no guest data).
      if (error instanceof RetryableError && !error.message.includes(' /')) {
        throw new RetryableError(`${error.message} (${request.method} ${new URL(request.url).pathname})`, error.retryAfterSeconds, error.code, { cause: error });
      }
      throw error;
    }
  }

  /**
   * A request with a token granted for it alone (not cached, not shared): what
   * `guest-sync config check` uses, so it never touches the stack's token cache.
   */
  async probe(request: HttpRequest): Promise<HttpResponse> {
    const { accessToken } = await this.grant();
    return this.options.http.request({ ...request, headers: { ...request.headers, authorization: `Bearer ${accessToken}` } });
  }

  private async credentials(): Promise<z.infer<typeof PmsCredentials>> {
    const parsed = PmsCredentials.safeParse(await this.options.deps.secrets.get(this.options.credentialsRef));
    if (!parsed.success) {
      throw new RetryableError(`${this.options.name}: secret "${this.options.credentialsRef}" must hold {"clientId","clientSecret"} or {"accessToken"}`, undefined, 'invalid_credentials_secret');
    }
    return parsed.data;
  }

  private async grant(): Promise<TokenGrant> {
    const credentials = await this.credentials();
    if ('accessToken' in credentials) return { accessToken: credentials.accessToken, expiresInSeconds: 3600 };
    const basic = this.options.clientAuth === 'basic';
    const form = new URLSearchParams(basic ? { grant_type: 'client_credentials' } : { grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret });
    const scope = credentials.scope ?? this.options.defaultScope;
    if (scope) form.set('scope', scope);
    const authorization: Record<string, string> = basic ? { authorization: `Basic ${Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64')}` } : {};
    const response = await this.options.http.request({
      method: 'POST',
      url: this.options.tokenUrl,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...authorization },
      body: form.toString(),
      idempotent: true,
    });
    if (response.status !== 200) {
      // Not retried away: a bad client keeps failing until the secret is fixed, then the DLQ replays.
      throw new RetryableError(`${this.options.name}: the token endpoint refused the client credentials (${response.status})`, undefined, response.status === 401 ? 'invalid_client' : `token_http_${response.status}`);
    }
    const parsed = TokenResponse.safeParse(response.json);
    if (!parsed.success) throw new RetryableError(`${this.options.name}: the token response has no access_token`, undefined, 'invalid_token_response');
    return { accessToken: parsed.data.access_token, expiresInSeconds: parsed.data.expires_in };
  }
}

/** A GET's JSON body when 2xx; a RetryableError naming the status otherwise (404 is the caller's to handle). */
export function expectOk(name: string, what: string, response: HttpResponse): unknown {
  if (response.status >= 200 && response.status < 300) return response.json;
  throw new RetryableError(`${name}: ${what} answered ${response.status}`, undefined, `http_${response.status}`);
}

