import { runtimeFromEnv } from '../core/runtime.ts';
import { ingestHandlerFor } from './handler-factory.ts';

/** The ingest Lambda behind `POST /webhooks/{connectionId}` (HTTP API or Function URL, payload v2). */
export const handler = ingestHandlerFor(runtimeFromEnv(process.env));
