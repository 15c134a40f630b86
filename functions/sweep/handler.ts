import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { logger, metrics } from '../core/powertools.ts';
import { runtimeFromEnv } from '../core/runtime.ts';
import { sweepDue } from './sweep.ts';

const runtime = runtimeFromEnv(process.env);

/** The sweep Lambda, run on a schedule (EventBridge): re-enqueues reservations whose target work is due. */
export const handler = middy(() => sweepDue({ config: runtime.config, store: runtime.store, queue: runtime.queue, now: Date.now }))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
