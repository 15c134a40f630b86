// First: sets zod's mode before any schema is built.
import '../core/jitless.ts';
import { DynamoDbStore } from '../core/dynamodb-store.ts';
import { liveConfig, runtimeFromEnv } from '../core/runtime.ts';
import { fetcherLookup } from '../sources/fetcher.ts';
import { fetcherFactories } from '../sources/fetcher-registry.ts';
import { createTargets } from '../targets/registry.ts';
import { createSyncHandler } from './handler-factory.ts';

const runtime = runtimeFromEnv(process.env);
const store = new DynamoDbStore(runtime.dynamodb, runtime.tableName);

/** The sync Lambda: SQS FIFO batches in, partial batch failures out. */
export const handler = createSyncHandler({
  config: runtime.config,
  store,
  queue: runtime.queue,
  targets: createTargets({ config: runtime.config, secrets: runtime.secrets, store }),
  fetchers: fetcherLookup(fetcherFactories, { config: runtime.config, secrets: runtime.secrets, store }),
  now: Date.now,
  liveDeps: liveConfig(runtime.configStore, (config) => ({
    targets: createTargets({ config, secrets: runtime.secrets, store }),
    fetchers: fetcherLookup(fetcherFactories, { config, secrets: runtime.secrets, store }),
  })),
});
