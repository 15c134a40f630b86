import type { SQSClient } from '@aws-sdk/client-sqs';
import { LANE_MAX_CONCURRENCY } from '../../functions/core/queue.ts';
import { DynamoDbStore } from '../../functions/core/dynamodb-store.ts';
import { liveConfig, runtimeFromEnv } from '../../functions/core/runtime.ts';
import { fetcherLookup } from '../../functions/sources/fetcher.ts';
import { fetcherFactories } from '../../functions/sources/fetcher-registry.ts';
import { createSyncHandler } from '../../functions/sync/handler-factory.ts';
import { createTargets } from '../../functions/targets/registry.ts';
import { localFunction, timedHandler, type LocalInvocation } from './lambda-context.ts';
import { startPoller, type Poller } from './poller.ts';

/**
 * Sync "Lambda instances" polling the queue, each with its own handler, clients, token memory
 * and pacing, configured from the same environment a Lambda gets. The local stack runs them in
 * its process; the chaos suite runs them in a process of their own, so it can kill them.
 */
export interface SyncWorkersOptions {
  env: Record<string, string | undefined>;
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  count: number;
  /** Each target's lane: LANE_MAX_CONCURRENCY more workers poll each (on AWS, the lane's event source mapping). */
  lanes?: readonly Lane[];
  now: () => number;
  maxBackoffSeconds?: number;
  onError?: (error: unknown) => void;
  onInvocation?: (invocation: LocalInvocation) => void;
}

export interface Lane {
  target: string;
  queueUrl: string;
  queueArn: string;
}

/** The workers' instance ids (each calls targets with `User-Agent: guest-sync (<id>)`) and function names. */
export function syncWorkerNames(count: number, laneTargets: readonly string[]): { instanceId: string; name: string; lane?: string }[] {
  return [
    ...Array.from({ length: count }, (_, i) => ({ instanceId: `local-sync-${i + 1}`, name: `guest-sync-sync-${i + 1}` })),
    ...laneTargets.flatMap((target) => Array.from({ length: LANE_MAX_CONCURRENCY }, (_, i) => ({ instanceId: `local-lane-${target}-${i + 1}`, name: `guest-sync-lane-${target}-${i + 1}`, lane: target }))),
  ];
}

export function startSyncWorkers(options: SyncWorkersOptions): Poller[] {
  const { now } = options;
  const pollers: Poller[] = [];
  const lanes = new Map((options.lanes ?? []).map((lane) => [lane.target, lane]));
  const workers = syncWorkerNames(options.count, [...lanes.keys()]).map((worker) => {
    const lane = worker.lane === undefined ? undefined : lanes.get(worker.lane)!;
    return { ...worker, queueUrl: lane?.queueUrl ?? options.queueUrl, queueArn: lane?.queueArn ?? options.queueArn };
  });
  for (const { instanceId, name, queueUrl, queueArn } of workers) {
    const runtime = runtimeFromEnv(options.env);
    const store = new DynamoDbStore(runtime.dynamodb, runtime.tableName);
    const handler = createSyncHandler({
      config: runtime.config,
      store,
      queue: runtime.queue,
      targets: createTargets({ config: runtime.config, secrets: runtime.secrets, store, instanceId, now }),
      fetchers: fetcherLookup(fetcherFactories, { config: runtime.config, secrets: runtime.secrets, store, instanceId, now }),
      now,
      // A pushed config (`guest-sync config push`) reaches the workers as it does on AWS.
      liveDeps: liveConfig(runtime.configStore, (config) => ({
        targets: createTargets({ config, secrets: runtime.secrets, store, instanceId, now }),
        fetchers: fetcherLookup(fetcherFactories, { config, secrets: runtime.secrets, store, instanceId, now }),
      })),
      ...(options.maxBackoffSeconds !== undefined ? { maxBackoffSeconds: options.maxBackoffSeconds } : {}),
    });
    pollers.push(startPoller({ sqs: options.sqs, queueUrl, queueArn, handler: timedHandler('sync', localFunction(handler), options.onInvocation), name, ...(options.onError ? { onError: options.onError } : {}) }));
  }
  return pollers;
}
