import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DynamoDbStore } from '../../functions/core/dynamodb-store.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/stack.ts';
import { HOSTAWAY_AUTH } from './hostaway.ts';

/** A local stack on free ports and in memory. */
export function startTestStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    ports: { http: 0, sandbox: 0, sqs: 0, dynamodb: 0 },
    dataDir: null,
    ...options,
  });
}

export interface WebhookReply {
  status: number;
  body: { status?: string; reason?: string; error?: { code: string; message: string } } & Record<string, unknown>;
}

export async function postWebhook(stack: LocalStack, connectionId: string, body: string, headers: Record<string, string>): Promise<WebhookReply> {
  const response = await fetch(`${stack.urls.webhooks}/webhooks/${connectionId}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as WebhookReply['body'] };
}

export function sendHostaway(stack: LocalStack, delivery: unknown, auth = HOSTAWAY_AUTH): Promise<WebhookReply> {
  return postWebhook(stack, 'hostaway-demo', typeof delivery === 'string' ? delivery : JSON.stringify(delivery), { authorization: auth });
}

export function storeFor(stack: LocalStack): DynamoDbStore {
  return new DynamoDbStore(stack.dynamodb, stack.tableName);
}

export async function tableItemCount(stack: LocalStack): Promise<number> {
  const out = await stack.dynamodb.send(new ScanCommand({ TableName: stack.tableName, Select: 'COUNT' }));
  return out.Count ?? 0;
}

export async function queueDepth(stack: LocalStack, url = stack.queueUrl): Promise<number> {
  const out = await stack.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Empties the four target sandboxes between tests of one stack. */
export function resetTargetSandboxes(stack: LocalStack): void {
  for (const sandbox of [stack.sandbox.minut, stack.sandbox.recepai, stack.sandbox.kasify, stack.sandbox.hostelmate]) sandbox.reset();
}

/** Deterministic shuffle, so a failing order can be replayed. */
export function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
