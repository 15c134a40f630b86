import { z } from 'zod';

/**
 * Queue of injected failures ("fail the next N matching requests with status S"), shared by
 * vendor sandboxes. The injector only decides *whether* a request fails; each vendor turns
 * the fault into its own error body.
 */

export const FailNextOptions = z.strictObject({
  status: z.int().min(400).max(599),
  count: z.int().positive().default(1),
  /** Seconds for a `Retry-After` header (429 defaults to the vendor's configured value). */
  retryAfter: z.int().nonnegative().optional(),
  /** Only requests with this method (case-insensitive). */
  method: z.string().min(1).optional(),
  /** Only requests whose full path contains this substring. */
  pathIncludes: z.string().min(1).optional(),
});
export type FailNextOptions = z.input<typeof FailNextOptions>;

export interface PendingFault {
  status: number;
  remaining: number;
  retryAfter?: number;
  method?: string;
  pathIncludes?: string;
}

export class FaultInjector {
  private faults: PendingFault[] = [];

  failNext(options: FailNextOptions): void {
    const parsed = FailNextOptions.parse(options);
    this.faults.push({
      status: parsed.status,
      remaining: parsed.count,
      ...(parsed.retryAfter !== undefined && { retryAfter: parsed.retryAfter }),
      ...(parsed.method !== undefined && { method: parsed.method.toUpperCase() }),
      ...(parsed.pathIncludes !== undefined && { pathIncludes: parsed.pathIncludes }),
    });
  }

  /** Consumes one use of the oldest fault matching this request, if any. */
  take(method: string, fullPath: string): PendingFault | undefined {
    const fault = this.faults.find(
      (candidate) =>
        (candidate.method === undefined || candidate.method === method.toUpperCase()) &&
        (candidate.pathIncludes === undefined || fullPath.includes(candidate.pathIncludes)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
    return { ...fault };
  }

  pending(): PendingFault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  clear(): void {
    this.faults = [];
  }
}
