import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { FailNextOptions, FaultInjector } from './faults.ts';
import {
  Router,
  errorReply,
  headerValue,
  jsonReply,
  parseJsonWithSchema,
  type SandboxReply,
  type SandboxRequest,
  type SandboxResponse,
  type VendorSandbox,
} from './http.ts';
import { TrafficRecorder, type RequestLogEntry } from './traffic.ts';

/**
 * What the PMS API sandboxes share: their auth (an OAuth client_credentials token endpoint
 * with bearer checks for Guesty and Smily; a static key in a header for Lodgify `X-ApiKey`,
 * Smoobu `Api-Key` and Hospitable's bearer personal access token), injected faults (like the Minut sandbox's: "fail the next N",
 * plus "fail until cleared"), a request log without bodies, and HTTP controls under
 * `/_sandbox/<vendor>/...`:
 *   POST   /fail-next    {status, count?, retryAfter?, method?, pathIncludes?}
 *   POST   /fail-always  {status, method?, pathIncludes?}   until DELETE /faults
 *   DELETE /faults
 *   GET    /requests, GET /counters, POST /reset
 * Each vendor adds its API routes and its data controls. State is in memory.
 */

export interface PmsApiClient {
  clientId: string;
  clientSecret: string;
}

/** How the API authenticates its callers. */
export type PmsApiAuth =
  | { kind: 'oauth'; /** e.g. `/oauth2/token`, relative to the prefix. */ tokenPath: string; clients: readonly PmsApiClient[] }
  | { kind: 'key'; /** Lower-case header name. */ header: string; keys: readonly string[]; /** `Authorization: Bearer <key>`. */ bearer?: boolean }
  /** Credentials inside the JSON body (Mews: `ClientToken` + `AccessToken`); true when they are valid. */
  | { kind: 'body'; accepts: (body: Record<string, unknown>) => boolean };

export interface PmsApiSandboxOptions {
  /** OAuth clients (Guesty, Smily). */
  clients?: PmsApiClient[];
  /** Accepted static keys (Lodgify, Hospitable, Smoobu). */
  keys?: string[];
  tokenTtlSeconds?: number;
  now?: () => number;
}

export type ApiRoute = { req: SandboxRequest; params: Record<string, string> };

const FailAlwaysOptions = FailNextOptions.omit({ count: true });

export abstract class PmsApiSandbox implements VendorSandbox {
  protected readonly api = new Router();
  protected readonly control = new Router();
  protected readonly now: () => number;
  private readonly faults = new FaultInjector();
  private readonly traffic = new TrafficRecorder();
  private readonly tokens = new Map<string, number>();
  private readonly apiClients: PmsApiClient[];
  private readonly apiKeys: ReadonlySet<string>;
  private readonly tokenPath: string | undefined;
  private readonly tokenTtlSeconds: number;
  private tokenGrants = 0;

  constructor(
    readonly prefix: string,
    private readonly auth: PmsApiAuth,
    options: PmsApiSandboxOptions,
  ) {
    this.tokenPath = auth.kind === 'oauth' ? auth.tokenPath : undefined;
    this.apiClients = [...(options.clients ?? (auth.kind === 'oauth' ? auth.clients : []))];
    this.apiKeys = new Set(options.keys ?? (auth.kind === 'key' ? auth.keys : []));
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? 86_400;
    this.now = options.now ?? Date.now;
    this.control
      .add('POST', '/fail-next', ({ req }) => {
        const body = parseJsonWithSchema(req, FailNextOptions);
        if (!body.ok) return body.reply;
        this.failNext(body.value);
        return jsonReply(200, { pending: this.faults.pending() });
      })
      .add('POST', '/fail-always', ({ req }) => {
        const body = parseJsonWithSchema(req, FailAlwaysOptions);
        if (!body.ok) return body.reply;
        this.failAlways(body.value);
        return jsonReply(200, { pending: this.faults.pending() });
      })
      .add('DELETE', '/faults', () => {
        this.faults.clear();
        return { status: 204 };
      })
      .add('GET', '/requests', () => jsonReply(200, { requests: this.requestLog() }))
      .add('GET', '/counters', () => jsonReply(200, this.counters()))
      .add('POST', '/reset', () => {
        this.reset();
        return { status: 204 };
      });
  }

  /** Restores the vendor's seed data. */
  protected abstract resetData(): void;

  failNext(options: FailNextOptions): void {
    this.faults.failNext(options);
  }

  /** Every matching request fails until `clearFaults()`. */
  failAlways(options: Omit<FailNextOptions, 'count'>): void {
    this.faults.failNext({ ...options, count: Number.MAX_SAFE_INTEGER });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  requestLog(): RequestLogEntry[] {
    return this.traffic.entries();
  }

  counters(): { requests: number; tokenGrants: number; byRoute: Record<string, number> } {
    return { ...this.traffic.counters(), tokenGrants: this.tokenGrants };
  }

  /** Clears the log, counters and faults and restores the seed data; tokens stay valid. */
  reset(): void {
    this.traffic.clear();
    this.faults.clear();
    this.tokenGrants = 0;
    this.resetData();
  }

  async handle(req: SandboxRequest): Promise<SandboxReply> {
    const at = this.now();
    const match = this.api.match(req.method, req.path);
    const isToken = this.tokenPath !== undefined && req.path === this.tokenPath;
    const route = isToken ? `${req.method} ${this.tokenPath}` : match.kind === 'not-found' ? `${req.method} <unmatched>` : match.key;
    const reply = await this.process(req, match, isToken);
    const userAgent = headerValue(req.headers, 'user-agent');
    const status = 'status' in reply ? reply.status : 0; // 0: the connection was dropped
    this.traffic.record({ at, method: req.method, path: req.fullPath, route, status, ...(userAgent !== undefined && { userAgent }) });
    return reply;
  }

  handleControl(req: SandboxRequest): SandboxReply | Promise<SandboxReply> {
    const match = this.control.match(req.method, req.path);
    if (match.kind === 'not-found') return errorReply(404, `No sandbox control at ${req.fullPath}`);
    if (match.kind === 'method-not-allowed') return errorReply(405, 'Method not allowed', undefined, { Allow: match.allowed.join(', ') });
    return match.handler({ req, params: match.params });
  }

  private process(req: SandboxRequest, match: ReturnType<Router['match']>, isToken: boolean): SandboxReply | Promise<SandboxReply> {
    // Injected faults act like a failing gateway: before authentication.
    const fault = this.faults.take(req.method, req.fullPath);
    if (fault) {
      const headers = fault.retryAfter === undefined ? undefined : { 'Retry-After': String(fault.retryAfter) };
      return errorReply(fault.status, 'Injected failure', undefined, headers);
    }
    if (isToken) return req.method === 'POST' ? this.grant(req) : errorReply(405, 'Method not allowed');
    const refused = this.refusal(req);
    if (refused) return refused;
    if (match.kind === 'not-found') return errorReply(404, 'Not found');
    if (match.kind === 'method-not-allowed') return errorReply(405, 'Method not allowed', undefined, { Allow: match.allowed.join(', ') });
    return match.handler({ req, params: match.params });
  }

  /** The vendor's 401 for a caller without valid credentials; undefined when they are valid. */
  private refusal(req: SandboxRequest): SandboxResponse | undefined {
    if (this.auth.kind === 'body') {
      let body: unknown;
      try {
        body = JSON.parse(req.body.toString('utf8'));
      } catch {
        body = undefined;
      }
      return body && typeof body === 'object' && !Array.isArray(body) && this.auth.accepts(body as Record<string, unknown>) ? undefined : this.unauthorized();
    }
    if (this.auth.kind === 'key') {
      const raw = headerValue(req.headers, this.auth.header) ?? '';
      const key = this.auth.bearer ? /^Bearer\s+(\S+)$/i.exec(raw)?.[1] : raw;
      return key && this.apiKeys.has(key) ? undefined : this.unauthorized();
    }
    const token = /^Bearer\s+(\S+)$/i.exec(headerValue(req.headers, 'authorization') ?? '')?.[1];
    const expiresAt = token ? this.tokens.get(token) : undefined;
    if (!token || expiresAt === undefined || expiresAt <= this.now()) return this.invalidToken();
    return undefined;
  }

  /** An OAuth vendor's answer to a missing, invalid or expired bearer token. */
  protected invalidToken(): SandboxResponse {
    return errorReply(401, 'Missing, invalid or expired access token', undefined, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }

  /** A key-auth vendor's own 401 body (each documents its own shape). */
  protected unauthorized(): SandboxResponse {
    return errorReply(401, 'Missing or invalid API key');
  }

  /** client_credentials with the client in the form body (Guesty, Doorkeeper) or in HTTP Basic. */
  private grant(req: SandboxRequest): SandboxResponse {
    const form = new URLSearchParams(req.body.toString('utf8'));
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(headerValue(req.headers, 'authorization') ?? '')?.[1];
    if (basic) [clientId, clientSecret] = Buffer.from(basic, 'base64').toString('utf8').split(':', 2) as [string, string];
    if (form.get('grant_type') !== 'client_credentials') return jsonReply(400, { error: 'unsupported_grant_type' });
    if (!this.apiClients.some((c) => c.clientId === clientId && c.clientSecret === clientSecret)) {
      return jsonReply(401, { error: 'invalid_client', error_description: 'Unknown client or wrong client secret' });
    }
    const accessToken = randomBytes(24).toString('base64url');
    this.tokens.set(accessToken, this.now() + this.tokenTtlSeconds * 1000);
    this.tokenGrants += 1;
    return jsonReply(200, { access_token: accessToken, token_type: 'Bearer', expires_in: this.tokenTtlSeconds, scope: form.get('scope') ?? '' });
  }
}

/** A JSON object body for the data controls. */
export const JsonObject = z.record(z.string(), z.unknown());

/** A vendor's records by id (bookings, reservations), restored from its seed on reset. */
export class RecordBook {
  private records = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly seed: () => Record<string, unknown>[],
    private readonly idField = 'id',
  ) {
    this.reset();
  }

  /** Adds or replaces a record (keyed by its id field); returns what the API will serve. */
  put(record: Record<string, unknown>): Record<string, unknown> {
    const copy = structuredClone(record);
    this.records.set(String(copy[this.idField]), copy);
    return structuredClone(copy);
  }

  get(id: string): Record<string, unknown> | undefined {
    const record = this.records.get(id);
    return record ? structuredClone(record) : undefined;
  }

  /** Deleted: the API answers 404 for it from now on. */
  delete(id: string | number): void {
    this.records.delete(String(id));
  }

  all(): Record<string, unknown>[] {
    return [...this.records.values()].map((record) => structuredClone(record));
  }

  reset(): void {
    this.records = new Map(this.seed().map((record) => [String(record[this.idField]), structuredClone(record)]));
  }

  /** `PUT|DELETE /_sandbox/<vendor><path>/{id}` on a control router; `toId` types the id as the vendor does. */
  addControls(control: Router, path: string, toId: (id: string) => unknown = (id) => id): void {
    control
      .add('PUT', `${path}/:id`, ({ req, params }) => {
        const body = parseJsonWithSchema(req, JsonObject);
        if (!body.ok) return body.reply;
        return jsonReply(200, this.put({ ...body.value, [this.idField]: toId(params.id!) }));
      })
      .add('DELETE', `${path}/:id`, ({ params }) => {
        this.delete(params.id!);
        return { status: 204 };
      });
  }
}
