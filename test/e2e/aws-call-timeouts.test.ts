import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../functions/core/config.ts';
import { classify } from '../../functions/core/failure.ts';
import { DynamoDbStore } from '../../functions/core/dynamodb-store.ts';
import { runtimeFromEnv } from '../../functions/core/runtime.ts';
import { LocalSecretStore } from '../../functions/core/secrets.ts';
import { createIngestHandler } from '../../functions/ingest/handler-factory.ts';
import { toApiGatewayEvent } from '../../infra/local/http-front.ts';
import { localContext } from '../../infra/local/lambda-context.ts';
import { captureOutput } from '../support/capture-output.ts';
import { hostawayDelivery, HOSTAWAY_AUTH } from '../support/hostaway.ts';

/**
 * DynamoDB or SQS that takes a connection and never answers (a dead connection on AWS). The
 * handlers' SDK clients give up on an attempt after 1.5 s and try again (as many times as the
 * SDK's retry mode says), so ingest answers with a clear 503 instead of hanging until Lambda's
 * timeout, and a store call fails (sync retries the message) instead of holding the whole batch.
 */
let server: Server;
let connections = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // Reads the request and never answers.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function hungRuntime() {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const endpoint = `http://127.0.0.1:${address.port}`;
  return runtimeFromEnv({
    GUEST_SYNC_CONFIG: 'config/guest-sync.example.json',
    GUEST_SYNC_TABLE: 'guest-sync',
    GUEST_SYNC_QUEUE_URL: `${endpoint}/000000000000/guest-sync-events.fifo`,
    GUEST_SYNC_SECRETS_FILES: 'config/secrets.example.json',
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
  });
}

describe('a DynamoDB or SQS call that never answers', () => {
  it('ingest answers 503 enqueue_failed, after more than one attempt, instead of hanging', async () => {
    const runtime = hungRuntime();
    const handler = createIngestHandler({
      config: loadConfigFile('config/guest-sync.example.json'),
      secrets: new LocalSecretStore({}, ['config/secrets.example.json']),
      queue: runtime.queue,
      now: Date.now,
    });
    const event = toApiGatewayEvent({
      path: '/webhooks/hostaway-demo',
      connectionId: 'hostaway-demo',
      headers: { 'content-type': 'application/json', authorization: HOSTAWAY_AUTH },
      body: Buffer.from(JSON.stringify(hostawayDelivery('reservation.created'))),
    });
    const before = connections;
    const output = captureOutput();
    let reply;
    try {
      reply = await handler(event, localContext('ingest', 10_000));
    } finally {
      output.stop();
    }
    expect(reply.statusCode).toBe(503);
    expect(JSON.parse(reply.body!)).toEqual({ error: { code: 'enqueue_failed', message: 'The delivery could not be queued; please retry.' } });
    expect(connections - before).toBeGreaterThan(1);
  }, 30_000);

  it("a store read fails with a timeout (sync retries its message) instead of holding the batch", async () => {
    const runtime = hungRuntime();
    const before = connections;
    const error: unknown = await new DynamoDbStore(runtime.dynamodb, runtime.tableName).getSnapshot({ connectionId: 'hostaway-demo', reservationId: 'R-1' }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(connections - before).toBeGreaterThan(1);
    // Retried, and ours: an AWS call's timeout is not the target's outage (no circuit breaker count).
    expect(classify(error)).toMatchObject({ permanent: false, code: 'aws_unanswered', outage: false });
  }, 30_000);
});
