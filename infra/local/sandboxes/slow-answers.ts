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

/** Random faults on every request to a vendor (the chaos suite): each request rolls once. */
export interface RandomFaultRates {
  /** Share of requests answered 503. */
  serverError: number;
  /** Share answered 429, with a Retry-After drawn from `retryAfterSeconds`. */
  rateLimited: number;
  retryAfterSeconds: number[];
  /** Share never answered (the client times out). */
  hang: number;
  /** Share processed, then the answer lost. */
  lost: number;
}

export type RandomFault = { mode: 'status'; status: number; retryAfter?: number } | { mode: 'hang' } | { mode: 'lost' };

export class SlowAnswers {
  private pending: SlowAnswer[] = [];
  private readonly random = new Map<string, RandomFaultRates>();

  /** Random faults for one vendor prefix (e.g. "/kasify"); null stops them. */
  setRandom(vendor: string, rates: RandomFaultRates | null): void {
    if (rates) this.random.set(vendor, rates);
    else this.random.delete(vendor);
  }

  /** The random fault this request draws, if any. */
  roll(path: string, draw: () => number = Math.random): RandomFault | undefined {
    const rates = [...this.random.entries()].find(([vendor]) => path.startsWith(`${vendor}/`))?.[1];
    if (!rates) return undefined;
    let x = draw();
    if ((x -= rates.serverError) < 0) return { mode: 'status', status: 503 };
    if ((x -= rates.rateLimited) < 0) return { mode: 'status', status: 429, retryAfter: rates.retryAfterSeconds[Math.floor(draw() * rates.retryAfterSeconds.length)] ?? 1 };
    if ((x -= rates.hang) < 0) return { mode: 'hang' };
    if ((x -= rates.lost) < 0) return { mode: 'lost' };
    return undefined;
  }

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
    this.random.clear();
  }
}
