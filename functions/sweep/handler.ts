import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger, publishMetrics } from '../core/powertools.ts';
import { runtimeFromEnv } from '../core/runtime.ts';
import { sweepDue } from './sweep.ts';

const runtime = runtimeFromEnv(process.env);

/** The sweep Lambda, run on a schedule (EventBridge): re-enqueues reservations whose target work is due. */
// The active config (pushed with `guest-sync config push`, else the bundled file), as in ingest and sync.
export const handler = middy(async () => sweepDue({ config: (await runtime.configStore.current()).config, store: runtime.store, queue: runtime.queue, now: Date.now }))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics());
