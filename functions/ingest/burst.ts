/**
 * Tells a connection that is replaying a burst (a PMS resending a day of events, a portfolio
 * onboarding) from ordinary traffic, so ingest can put the burst on the bulk queue and the
 * other connections' events are not queued behind it. Counted per ingest instance, in fixed
 * windows: on AWS a burst arrives at tens of requests per second and reaches every instance,
 * while a host's ordinary traffic is a few deliveries per minute. Once bursting, a connection
 * stays on the bulk queue until it has been under the threshold for BURST_STICKY_MS.
 */
export const BURST_WINDOW_MS = 10_000;
/** More events than this from one connection in one window (in one instance) is a burst. */
export const BURST_EVENTS = 50;
export const BURST_STICKY_MS = 60_000;

export class BurstDetector {
  private readonly connections = new Map<string, { windowStart: number; events: number; bulkUntil: number }>();

  constructor(private readonly limits = { windowMs: BURST_WINDOW_MS, events: BURST_EVENTS, stickyMs: BURST_STICKY_MS }) {}

  /** Counts a delivery's events for a (known) connection; true when they belong on the bulk queue. */
  note(connectionId: string, events: number, now: number): boolean {
    let entry = this.connections.get(connectionId);
    if (!entry || now - entry.windowStart >= this.limits.windowMs) {
      entry = { windowStart: now, events: 0, bulkUntil: entry?.bulkUntil ?? 0 };
      this.connections.set(connectionId, entry);
    }
    entry.events += events;
    if (entry.events > this.limits.events) entry.bulkUntil = now + this.limits.stickyMs;
    return now < entry.bulkUntil;
  }
}
