import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  errorReply,
  isDropConnection,
  jsonReply,
  noContent,
  parseJsonWithSchema,
  type SandboxHandler,
  type SandboxReply,
  type SandboxRequest,
  type SandboxResponse,
  type VendorSandbox,
} from './http.ts';
import { GuestySandbox } from './guesty.ts';
import { MinutSandbox, type MinutSandboxOptions } from './minut.ts';
import { HostelmateSandbox, type HostelmateSandboxOptions } from './hostelmate.ts';
import { KasifySandbox, type KasifySandboxOptions } from './kasify.ts';
import { RecepaiSandbox, type RecepaiSandboxOptions } from './recepai.ts';
import type { PmsApiSandboxOptions } from './pms-api.ts';
import { SlowAnswerOptions, SlowAnswers, type RandomFaultRates } from './slow-answers.ts';
import { SmilySandbox, type SmilySandboxOptions } from './smily.ts';
import { ApaleoSandbox } from './apaleo.ts';
import { CloudbedsSandbox } from './cloudbeds.ts';
import { HospitableSandbox } from './hospitable.ts';
import { HostawaySandbox } from './hostaway.ts';
import { LodgifySandbox } from './lodgify.ts';
import { MewsSandbox } from './mews.ts';
import { SmoobuSandbox } from './smoobu.ts';

/**
 * One plain `node:http` server hosting every vendor sandbox under its own path prefix
 * (`/minut/...`), plus each vendor's test controls under `/_sandbox/<vendor>/...` and
 * `GET /health`. Adding a vendor = its sandbox file + one entry in `vendors` below.
 */

export interface SandboxServerOptions {
  /** Default 4010 (the port in config/guest-sync.example.json); 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the sandbox is for this machine only. */
  host?: string;
  minut?: MinutSandboxOptions;
  recepai?: RecepaiSandboxOptions;
  kasify?: KasifySandboxOptions;
  hostelmate?: HostelmateSandboxOptions;
  guesty?: PmsApiSandboxOptions;
  smily?: SmilySandboxOptions;
  lodgify?: PmsApiSandboxOptions;
  hostaway?: PmsApiSandboxOptions;
  hospitable?: PmsApiSandboxOptions;
  smoobu?: PmsApiSandboxOptions;
  apaleo?: PmsApiSandboxOptions;
  mews?: PmsApiSandboxOptions;
  cloudbeds?: PmsApiSandboxOptions;
}

export interface SandboxServer {
  /** e.g. `http://127.0.0.1:4010`; Minut's base URL is `${url}/minut/v8`. */
  url: string;
  port: number;
  minut: MinutSandbox;
  recepai: RecepaiSandbox;
  kasify: KasifySandbox;
  hostelmate: HostelmateSandbox;
  /** Guesty Open API at `${url}/guesty`. */
  guesty: GuestySandbox;
  /** Smily (BookingSync) API at `${url}/smily`. */
  smily: SmilySandbox;
  /** Lodgify Public API at `${url}/lodgify`. */
  lodgify: LodgifySandbox;
  /** Hostaway API at `${url}/hostaway` (backfill and reconciliation read it). */
  hostaway: HostawaySandbox;
  /** Hospitable Public API at `${url}/hospitable/v2`. */
  hospitable: HospitableSandbox;
  /** Smoobu API at `${url}/smoobu`. */
  smoobu: SmoobuSandbox;
  /** apaleo (identity and Booking API) at `${url}/apaleo`. */
  apaleo: ApaleoSandbox;
  /** Mews Connector API at `${url}/mews`. */
  mews: MewsSandbox;
  /** Cloudbeds PMS API at `${url}/cloudbeds/api/v1.3`. */
  cloudbeds: CloudbedsSandbox;
  /** Slow, hung or dropped answers for any vendor (also `POST /_sandbox/slow`); `clearSlow` forgets them. */
  slow(options: SlowAnswerOptions): void;
  /** Random faults on every request to a vendor prefix; null stops them. */
  randomFaults(vendor: string, rates: RandomFaultRates | null): void;
  clearSlow(): void;
  stop(): Promise<void>;
}

const CONTROL_PREFIX = '/_sandbox';
/** Guest payloads are tiny; anything bigger is a client bug worth surfacing. */
const MAX_BODY_BYTES = 1024 * 1024;

export async function startSandboxServer(options: SandboxServerOptions = {}): Promise<SandboxServer> {
  const minut = new MinutSandbox(options.minut);
  const recepai = new RecepaiSandbox(options.recepai);
  const kasify = new KasifySandbox(options.kasify);
  const hostelmate = new HostelmateSandbox(options.hostelmate);
  const guesty = new GuestySandbox(options.guesty);
  const smily = new SmilySandbox(options.smily);
  const lodgify = new LodgifySandbox(options.lodgify);
  const hostaway = new HostawaySandbox(options.hostaway);
  const hospitable = new HospitableSandbox(options.hospitable);
  const smoobu = new SmoobuSandbox(options.smoobu);
  const apaleo = new ApaleoSandbox(options.apaleo);
  const mews = new MewsSandbox(options.mews);
  const cloudbeds = new CloudbedsSandbox(options.cloudbeds);
  const vendors: VendorSandbox[] = [minut, recepai, kasify, hostelmate, guesty, smily, lodgify, hostaway, hospitable, smoobu, apaleo, mews, cloudbeds];

  const slow = new SlowAnswers();
  const server = createServer((req, res) => {
    void serve(vendors, slow, req, res);
  });
  // Keep-alive sockets must not keep stop() waiting.
  server.keepAliveTimeout = 5_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4010, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    minut,
    recepai,
    kasify,
    hostelmate,
    guesty,
    smily,
    lodgify,
    hostaway,
    hospitable,
    smoobu,
    apaleo,
    mews,
    cloudbeds,
    slow: (options) => slow.add(options),
    randomFaults: (vendor, rates) => slow.setRandom(vendor, rates),
    clearSlow: () => slow.clear(),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function serve(vendors: readonly VendorSandbox[], slow: SlowAnswers, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // A client hanging up mid-request must not crash the process.
  req.on('error', () => undefined);
  res.on('error', () => undefined);
  try {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === 'too-large') {
      res.setHeader('Connection', 'close');
      writeResponse(res, errorReply(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`, 'invalid_request'));
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const sandboxRequest: SandboxRequest = { method, path: url.pathname, fullPath: url.pathname, query: url.searchParams, headers: req.headers, body };
    if (method === 'POST' && url.pathname === `${CONTROL_PREFIX}/slow`) {
      const parsed = parseJsonWithSchema(sandboxRequest, SlowAnswerOptions);
      if (parsed.ok) slow.add(parsed.value);
      writeResponse(res, parsed.ok ? noContent() : parsed.reply);
      return;
    }
    const random = slow.roll(url.pathname);
    if (random?.mode === 'status') {
      writeResponse(res, random.retryAfter !== undefined ? jsonReply(random.status, { error: 'rate limited (chaos)' }, { 'Retry-After': String(random.retryAfter) }) : jsonReply(random.status, { error: 'unavailable (chaos)' }));
      return;
    }
    const fault = random ?? slow.take(method, url.pathname);
    if (fault?.mode === 'hang') return; // never answered; the client times out
    if (fault?.mode === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.mode === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    const reply = await dispatch(vendors, sandboxRequest);
    if (isDropConnection(reply) || fault?.mode === 'lost') {
      req.socket.destroy();
      return;
    }
    writeResponse(res, reply);
  } catch (error) {
    // Log only the error message: request bodies (guest names, contacts) never reach the log.
    console.error('[sandbox] request failed:', error instanceof Error ? error.message : String(error));
    if (!res.headersSent) writeResponse(res, errorReply(500, 'Sandbox internal error', 'internal_error'));
    else res.destroy();
  }
}

/** Picks the handler by path prefix and rewrites `path` to be relative to it. */
async function dispatch(vendors: readonly VendorSandbox[], req: SandboxRequest): Promise<SandboxReply> {
  if (req.path === '/health') {
    return req.method === 'GET' ? jsonReply(200, { status: 'ok' }) : errorReply(405, 'Method not allowed');
  }
  for (const vendor of vendors) {
    const api = relativeTo(vendor.prefix, req.path);
    if (api !== undefined) return vendor.handle({ ...req, path: api });
    const control = relativeTo(CONTROL_PREFIX + vendor.prefix, req.path);
    if (control !== undefined) {
      const handler: SandboxHandler | undefined = vendor.handleControl?.bind(vendor);
      return handler ? handler({ ...req, path: control }) : errorReply(404, `${vendor.prefix} has no sandbox controls`);
    }
  }
  return errorReply(404, `No sandbox is mounted at ${req.path}`);
}

/** `/minut/v8/x` under `/minut` → `/v8/x`; `/minut` → `/`; `/minutes` → undefined. */
function relativeTo(prefix: string, path: string): string | undefined {
  if (path === prefix) return '/';
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function writeResponse(res: ServerResponse, reply: SandboxResponse): void {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
    return;
  }
  const payload = JSON.stringify(reply.body);
  res
    .writeHead(reply.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(payload)),
      ...headers,
    })
    .end(payload);
}
