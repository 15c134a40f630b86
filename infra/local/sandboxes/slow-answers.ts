import { z } from 'zod';

/**
 * Slow, hung and dropped answers, for any vendor sandbox (the server applies them by path
 * prefix, before or after the vendor handles the request):
 * - `delay`: answer normally after `delayMs` (past the client's timeout, the write lands after
 *   the client gave up);
 * - `hang`: never answer; the request is not processed;
 * - `drop`: close the connection at once; the request is not processed;
 * - `lost`: process the request (a write is applied), then close the connection unanswered.
 */
export const SlowAnswerOptions = z.strictObject({
  vendor: z.string().regex(/^\/[a-z]+$/, 'a vendor prefix such as "/minut"'),
  mode: z.enum(['delay', 'hang', 'drop', 'lost']),
  delayMs: z.int().min(0).max(120_000).default(0),
  count: z.int().positive().default(1),
  method: z.string().min(1).optional(),
  pathIncludes: z.string().min(1).optional(),
});
export type SlowAnswerOptions = z.input<typeof SlowAnswerOptions>;
type SlowAnswer = z.infer<typeof SlowAnswerOptions> & { remaining: number };

export class SlowAnswers {
  private pending: SlowAnswer[] = [];

  add(options: SlowAnswerOptions): void {
    const parsed = SlowAnswerOptions.parse(options);
    this.pending.push({ ...parsed, method: parsed.method?.toUpperCase(), remaining: parsed.count });
  }

  /** Consumes one use of the oldest matching entry, if any. */
  take(method: string, path: string): SlowAnswer | undefined {
    const found = this.pending.find(
      (s) => path.startsWith(`${s.vendor}/`) && (s.method === undefined || s.method === method) && (s.pathIncludes === undefined || path.includes(s.pathIncludes)),
    );
    if (!found) return undefined;
    found.remaining -= 1;
    if (found.remaining <= 0) this.pending = this.pending.filter((s) => s !== found);
    return { ...found };
  }

  clear(): void {
    this.pending = [];
  }
}
