import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { runLocalInvocation } from '../../functions/core/powertools.ts';

/** A Lambda context for handlers run locally, with the deadline a real invocation would have. */
export function localContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** What a local invocation took, as Lambda bills it: the handler's run, from its call to its answer. */
export interface LocalInvocation {
  function: 'ingest' | 'sync';
  durationMs: number;
}

/** `handler`, reporting each invocation's duration to `onInvocation` (the cost bench bills them). */
export function timedHandler<E, C, R>(fn: LocalInvocation['function'], handler: (event: E, context: C) => Promise<R>, onInvocation: ((invocation: LocalInvocation) => void) | undefined): (event: E, context: C) => Promise<R> {
  if (!onInvocation) return handler;
  return async (event, context) => {
    const started = performance.now();
    try {
      return await handler(event, context);
    } finally {
      onInvocation({ function: fn, durationMs: performance.now() - started });
    }
  };
}

/**
 * A function's handler, run locally beside the others in this process as if it ran alone in its
 * own execution environment: each invocation's metrics and log keys are its own
 * (`runLocalInvocation`). The first invocation is the cold start.
 */
export function localFunction<E, R>(handler: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R> {
  let coldStart = true;
  return (event, context) => {
    const lambda = { functionName: context.functionName, awsRequestId: context.awsRequestId, coldStart };
    coldStart = false;
    return runLocalInvocation(lambda, () => handler(event, context));
  };
}
