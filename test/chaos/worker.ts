/**
 * The chaos suite's sync workers, in a process of their own (test/chaos/harness.ts starts it):
 * with probability CHAOS_CRASH_P, right after a target answered a write and before sync could
 * record it, the process kills itself with SIGKILL, the way a Lambda dies mid-invocation.
 */
import { SQSClient } from '@aws-sdk/client-sqs';

let crashP = Number(process.env.CHAOS_CRASH_P ?? '0');
// The faults stop: no more crashes (without killing the in-flight batches once more).
process.on('message', (message) => {
  if (message === 'stop-crashing') crashP = 0;
});
const realFetch = globalThis.fetch;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const response = await realFetch(input, init);
  const url = String(input instanceof Request ? input.url : input);
  const write = WRITES.has((init?.method ?? 'GET').toUpperCase()) && !url.includes('/oauth/token');
  if (write && crashP > 0 && Math.random() < crashP) process.kill(process.pid, 'SIGKILL');
  return response;
};

const { startSyncWorkers } = await import('../../infra/local/workers.ts');
const env = process.env;
const sqs = new SQSClient({ endpoint: env.AWS_ENDPOINT_URL_SQS!, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, useQueueUrlAsEndpoint: false });
const lanes = JSON.parse(env.CHAOS_LANES ?? '[]') as { target: string; queueUrl: string; queueArn: string }[];
startSyncWorkers({ env, sqs, queueUrl: env.GUEST_SYNC_QUEUE_URL!, queueArn: env.CHAOS_QUEUE_ARN!, count: Number(env.CHAOS_WORKERS ?? '2'), lanes, now: Date.now, onError: () => undefined });
process.send?.('ready');
