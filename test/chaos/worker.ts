/**
 * The chaos suite's sync workers, in a process of their own (test/chaos/harness.ts starts it):
 * with probability CHAOS_CRASH_P, right after a target answered a write and before sync could
 * record it, the process kills itself with SIGKILL, the way a Lambda dies mid-invocation; with
 * CHAOS_CRASH_AT_WRITE=n it dies at its n-th answered write for sure (the first process), so
 * every run has a crash. The hook is on guest-sync's HTTP client, whatever it sends with.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { HttpClient } from '../../functions/core/http-client.ts';

let crashP = Number(process.env.CHAOS_CRASH_P ?? '0');
const crashAtWrite = Number(process.env.CHAOS_CRASH_AT_WRITE ?? '0');
let writes = 0;
// The faults stop: no more crashes (without killing the in-flight batches once more).
process.on('message', (message) => {
  if (message === 'stop-crashing') crashP = 0;
});
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const send = HttpClient.prototype.request;
HttpClient.prototype.request = async function (this: HttpClient, request) {
  const response = await send.call(this, request);
  const write = WRITES.has(request.method) && !request.url.includes('/oauth/token');
  if (write && crashP > 0 && (++writes === crashAtWrite || Math.random() < crashP)) process.kill(process.pid, 'SIGKILL');
  return response;
};

const { startSyncWorkers } = await import('../../infra/local/workers.ts');
const env = process.env;
const sqs = new SQSClient({ endpoint: env.AWS_ENDPOINT_URL_SQS!, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, useQueueUrlAsEndpoint: false });
const lanes = JSON.parse(env.CHAOS_LANES ?? '[]') as { target: string; queueUrl: string; queueArn: string }[];
startSyncWorkers({ env, sqs, queueUrl: env.GUEST_SYNC_QUEUE_URL!, queueArn: env.CHAOS_QUEUE_ARN!, count: Number(env.CHAOS_WORKERS ?? '2'), lanes, now: Date.now, onError: () => undefined });
process.send?.('ready');
