import type { SQSClient } from '@aws-sdk/client-sqs';
import { liveConfig, runtimeFromEnv } from '../../functions/core/runtime.ts';
import { fetcherLookup } from '../../functions/sources/fetcher.ts';
import { fetcherFactories } from '../../functions/sources/registry.ts';
import { createSyncHandler } from '../../functions/sync/handler-factory.ts';
import { createTargets } from '../../functions/targets/registry.ts';
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
  now: () => number;
  maxBackoffSeconds?: number;
  onError?: (error: unknown) => void;
}

export function startSyncWorkers(options: SyncWorkersOptions): Poller[] {
  const { now } = options;
  const pollers: Poller[] = [];
  for (let i = 0; i < options.count; i++) {
    const runtime = runtimeFromEnv(options.env);
    const instanceId = `local-sync-${i + 1}`;
    const handler = createSyncHandler({
      config: runtime.config,
      store: runtime.store,
      queue: runtime.queue,
      targets: createTargets({ config: runtime.config, secrets: runtime.secrets, store: runtime.store, instanceId, now }),
      fetchers: fetcherLookup(fetcherFactories, { config: runtime.config, secrets: runtime.secrets, store: runtime.store, instanceId, now }),
      now,
      // A pushed config (`guest-sync config push`) reaches the workers as it does on AWS.
      liveDeps: liveConfig(runtime.configStore, (config) => ({
        targets: createTargets({ config, secrets: runtime.secrets, store: runtime.store, instanceId, now }),
        fetchers: fetcherLookup(fetcherFactories, { config, secrets: runtime.secrets, store: runtime.store, instanceId, now }),
      })),
      ...(options.maxBackoffSeconds !== undefined ? { maxBackoffSeconds: options.maxBackoffSeconds } : {}),
    });
    pollers.push(startPoller({ sqs: options.sqs, queueUrl: options.queueUrl, queueArn: options.queueArn, handler, name: `guest-sync-sync-${i + 1}`, ...(options.onError ? { onError: options.onError } : {}) }));
  }
  return pollers;
}
