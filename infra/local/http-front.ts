import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { localContext } from './lambda-context.ts';

/**
 * The local stand-in for the HTTP API: turns `POST /webhooks/{connectionId}[/{token}]` into the
 * payload-v2 event API Gateway would send (raw body untouched, base64 for non-text
 * content types, as API Gateway does) and answers `GET /health`.
 */

export type IngestHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway's own payload cap; the function applies the (smaller) configured limit. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

export async function startHttpFront(options: { port: number; host: string; ingest: IngestHandler; health: () => Record<string, unknown> }): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    void route(req, res, options).catch(() => {
      // The ingest handler never throws (it answers every error itself): what lands here is a
      // request that could not be read, e.g. a body cut off mid-way.
      if (!res.headersSent) send(res, 400, { error: { code: 'invalid_request', message: 'The request could not be read.' } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://${options.host}:${port}` };
}

async function route(req: IncomingMessage, res: ServerResponse, options: { ingest: IngestHandler; health: () => Record<string, unknown> }): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://local');
  } catch {
    return send(res, 400, { error: { code: 'invalid_request', message: 'The request URL cannot be read.' } });
  }
  if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { status: 'ok', ...options.health() });
  // `/webhooks/{connectionId}` or, for URL-token connections, `/webhooks/{connectionId}/{token}`.
  const match = /^\/webhooks\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
  if (!match || req.method !== 'POST') return send(res, 404, { message: 'Not Found' });

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BYTES) return send(res, 413, { message: 'Request Entity Too Large' });
    chunks.push(chunk as Buffer);
  }
  let connectionId: string;
  let token: string | undefined;
  try {
    connectionId = decodeURIComponent(match[1]!);
    token = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  } catch {
    return send(res, 400, { error: { code: 'invalid_request', message: 'The path is not valid percent-encoding.' } });
  }
  const body = Buffer.concat(chunks);
  // No prototype: a header named "__proto__" stays a header.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const event = toApiGatewayEvent({
    path: url.pathname,
    query: url.search.slice(1),
    connectionId,
    ...(token !== undefined ? { token } : {}),
    headers,
    body,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  });
  const result = await options.ingest(event, localContext('guest-sync-ingest', 10_000));
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string> | undefined);
  res.end(result.body ?? '');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The HTTP API (payload v2) event for a webhook: the raw body as text, or base64 for non-text types. */
export function toApiGatewayEvent(input: { path: string; query?: string; connectionId: string; token?: string; headers: Record<string, string>; body: Buffer; sourceIp?: string }): APIGatewayProxyEventV2 {
  const contentType = input.headers['content-type'] ?? '';
  const isText = /^(text\/|application\/(json|[\w.+-]*\+json|x-www-form-urlencoded|xml))/i.test(contentType);
  const now = new Date();
  const routeKey = input.token === undefined ? 'POST /webhooks/{connectionId}' : 'POST /webhooks/{connectionId}/{token}';
  return {
    version: '2.0',
    routeKey,
    rawPath: input.path,
    rawQueryString: input.query ?? '',
    headers: input.headers,
    pathParameters: { connectionId: input.connectionId, ...(input.token !== undefined ? { token: input.token } : {}) },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: input.headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: { method: 'POST', path: input.path, protocol: 'HTTP/1.1', sourceIp: input.sourceIp ?? '127.0.0.1', userAgent: input.headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: input.body.length === 0 ? undefined : isText ? input.body.toString('utf8') : input.body.toString('base64'),
    isBase64Encoded: input.body.length > 0 && !isText,
  };
}
