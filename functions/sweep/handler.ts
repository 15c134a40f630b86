// First: sets zod's mode before any schema is built.
import '../core/jitless.ts';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger, publishMetrics } from '../core/powertools.ts';
import { DynamoDbStore } from '../core/dynamodb-store.ts';
import { runtimeFromEnv } from '../core/runtime.ts';
import { queueReconcile, sweepDue } from './sweep.ts';

const runtime = runtimeFromEnv(process.env);
const store = new DynamoDbStore(runtime.dynamodb, runtime.tableName);

/** The sweep Lambda, run on a schedule (EventBridge): re-enqueues reservations whose target work is due. */
// The active config (pushed with `guest-sync config push`, else the bundled file), as in ingest and sync.
// The reconcile schedule invokes it with {"reconcile": true}: it queues a reconciliation instead.
export const handler = middy(async (event: unknown) => {
  const deps = { config: (await runtime.configStore.current()).config, store, queue: runtime.queue, now: Date.now };
  return typeof event === 'object' && event !== null && (event as { reconcile?: unknown }).reconcile === true ? queueReconcile(deps) : sweepDue(deps);
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics());
