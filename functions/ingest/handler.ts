import { liveConfig, runtimeFromEnv } from '../core/runtime.ts';
import { BurstParking } from '../core/parking.ts';
import { createIngestHandler } from './handler-factory.ts';

const runtime = runtimeFromEnv(process.env);

/** The ingest Lambda behind `POST /webhooks/{connectionId}` (HTTP API, payload v2). */
export const handler = createIngestHandler({
  config: runtime.config,
  secrets: runtime.secrets,
  queue: runtime.queue,
  now: Date.now,
  liveConfig: liveConfig(runtime.configStore, () => ({})),
  parking: new BurstParking({ store: runtime.store, queue: runtime.queue, now: Date.now }),
});
