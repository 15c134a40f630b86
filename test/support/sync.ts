import type { SQSRecord } from 'aws-lambda';
import { DynamoDbStore } from '../../functions/core/dynamodb-store.ts';
import { runtimeFromEnv } from '../../functions/core/runtime.ts';
import type { SecretStore } from '../../functions/core/secrets.ts';
import type { Store } from '../../functions/core/store.ts';
import { QUEUE_SCHEMA_VERSION, type Queue, type QueueMessage } from '../../functions/core/queue.ts';
import { hostaway } from '../../functions/sources/hostaway.ts';
import { createSyncHandler } from '../../functions/sync/handler-factory.ts';
import { createTargets } from '../../functions/targets/registry.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { exampleConfigWith } from './config.ts';
import { SEASIDE_HOME, hostawayDelivery } from './hostaway.ts';
import { startTestStack } from './stack.ts';

/**
 * A stack whose demo Hostaway listing (219407) goes to Minut only, with no sync workers of its
 * own: the test drives `syncInstance` handlers itself, one message at a time.
 */
export function startMinutOnlyStack(): Promise<LocalStack> {
  const configPath = exampleConfigWith((config) => {
    config.connections['hostaway-demo'].properties['219407'].targets = { minut: { homeId: SEASIDE_HOME } };
  });
  return startTestStack({ syncWorkers: 0, configPath });
}

/**
 * A sync "Lambda instance" of its own against a running stack, called directly with SQS
 * records: for tests that race workers or wrap the store or the secrets with faults.
 */
export function syncInstance(stack: LocalStack, name: string, wrap: { store?: (store: Store) => Store; secrets?: (secrets: SecretStore) => SecretStore; now?: () => number; queue?: Queue } = {}) {
  const runtime = runtimeFromEnv({ ...process.env, ...stack.env });
  const runtimeStore = new DynamoDbStore(runtime.dynamodb, runtime.tableName);
  const store = wrap.store ? wrap.store(runtimeStore) : runtimeStore;
  const secrets = wrap.secrets ? wrap.secrets(runtime.secrets) : runtime.secrets;
  const now = wrap.now ?? Date.now;
  return createSyncHandler({
    config: runtime.config,
    store,
    queue: wrap.queue ?? { send: async () => undefined, delay: async () => undefined, deadLetter: async () => undefined },
    targets: createTargets({ config: runtime.config, secrets, store, instanceId: name, now }),
    now,
  });
}

/** The SQS record a Hostaway delivery for reservation `id` becomes. */
export function hostawayRecord(stack: LocalStack, id: number, data: Record<string, unknown> = {}): SQSRecord {
  const parsed = hostaway.parse(hostawayDelivery('reservation.created', { id, ...data }), { connectionId: 'hostaway-demo', connection: stack.config.connections['hostaway-demo']!, now: Date.now() });
  if (parsed.kind !== 'reservations') throw new Error('fixture did not parse');
  const body: QueueMessage = { v: QUEUE_SCHEMA_VERSION, kind: 'reservation', connectionId: 'hostaway-demo', deliveryId: `d-${id}-${Math.random()}`, receivedAt: Date.now(), reservation: parsed.reservations[0]! };
  return {
    messageId: `m-${id}`,
    receiptHandle: `r-${id}`,
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: `hostaway-demo#${id}` },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:guest-sync-events.fifo',
    awsRegion: 'us-east-1',
  };
}
