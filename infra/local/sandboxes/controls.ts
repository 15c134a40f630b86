import { z } from 'zod';
import { FailNextOptions } from './faults.ts';
import { jsonReply, noContent, parseJsonWithSchema, type Router, type SandboxReply, type SandboxRequest } from './http.ts';
import type { RequestLogEntry, RouteCounters } from './traffic.ts';

/**
 * The test controls every target sandbox offers under `/_sandbox/<vendor>/...`: counters, the
 * request log, reset, one-shot faults and an outage. Vendor-specific controls (data listings,
 * rate limits, key revocation) are added by each sandbox next to these.
 */
export interface ControllableSandbox {
  counters(): RouteCounters;
  requestLog(): RequestLogEntry[];
  reset(): void;
  failNext(options: FailNextOptions): void;
  setOutage(status: number | null): void;
}

const OutageBody = z.strictObject({ status: z.int().min(500).max(599).nullable() });

export function addStandardControls<R extends Router>(router: R, sandbox: ControllableSandbox): R {
  router
    .add('GET', '/counters', () => jsonReply(200, sandbox.counters()))
    .add('GET', '/requests', () => jsonReply(200, { requests: sandbox.requestLog() }))
    .add('POST', '/reset', () => {
      sandbox.reset();
      return noContent();
    })
    .add('POST', '/faults', ({ req }) => {
      const body = parseJsonWithSchema(req, FailNextOptions);
      if (!body.ok) return body.reply;
      sandbox.failNext(body.value);
      return noContent();
    })
    .add('POST', '/outage', ({ req }) => {
      const body = parseJsonWithSchema(req, OutageBody);
      if (!body.ok) return body.reply;
      sandbox.setOutage(body.value.status);
      return noContent();
    });
  return router;
}

/** Dispatches a control request; unknown controls get a 404 naming the path. */
export function dispatchControl(router: Router, req: SandboxRequest): SandboxReply {
  const match = router.match(req.method, req.path);
  if (match.kind !== 'found') return jsonReply(404, { message: `No sandbox control at ${req.fullPath}` });
  return match.handler({ req, params: match.params }) as SandboxReply;
}
