import { randomBytes } from 'node:crypto';
import type { Config } from './config.ts';
import { count, logger } from './powertools.ts';
import { QUEUE_SCHEMA_VERSION, readQueueMessage, sqsEntry, type DrainMessage, type Queue, type QueueMessage } from './queue.ts';
import type { Store } from './store.ts';

/**
 * Fairness between connections (docs/throughput.md "Fairness"). Every connection shares one FIFO
 * queue, served in arrival order across message groups, so a PMS replaying a day of events would
 * put every other connection's events behind its replay. Instead, while a connection is in a
 * burst, ingest parks its messages in the table; a chain of `drain` messages moves them to the
 * queue a turn at a time, each turn queued behind whatever arrived meanwhile, so the others'
 * events are served between two turns. Every message still reaches sync through its
 * reservation's message group, so no two workers ever hold one reservation; a parked message
 * that reaches sync after a later one sent directly (the burst ended in between, or another
 * ingest instance was not yet counting a burst) is older, and the snapshot's version guard
 * ignores it; on a tie of versions, the copy received later wins.
 */

export type BurstSettings = Config['burstParking'];

/** A drain's lease: it outlives the wait for the next turn behind a busy queue; a dead chain frees it. */
export const DRAIN_LEASE_MS = 120_000;
/** Parked messages hold guest data: kept no longer than the DLQ keeps a message. */
const PARKED_TTL_SECONDS = 14 * 86_400;
/** Once a burst, a connection stays parked until it has been under the threshold this long. */
const STICKY_MS = 60_000;

/**
 * Tells a connection in a burst from ordinary traffic, counted in fixed windows per ingest
 * instance: on AWS a replay arrives at tens of requests per second and reaches every instance,
 * while a host's ordinary traffic is a few deliveries per minute.
 */
export class BurstDetector {
  private readonly connections = new Map<string, { windowStart: number; events: number; parkedUntil: number }>();

  /** Counts a delivery's events for a connection; true when they are to be parked. */
  note(connectionId: string, events: number, now: number, settings: Pick<BurstSettings, 'events' | 'windowSeconds'>): boolean {
    let entry = this.connections.get(connectionId);
    if (!entry || now - entry.windowStart >= settings.windowSeconds * 1000 || now < entry.windowStart) {
      entry = { windowStart: now, events: 0, parkedUntil: entry?.parkedUntil ?? 0 };
      this.connections.set(connectionId, entry);
    }
    entry.events += events;
    if (entry.events > settings.events) entry.parkedUntil = now + STICKY_MS;
    return now < entry.parkedUntil;
  }
}

export interface ParkingDeps {
  store: Store;
  queue: Queue;
  now: () => number;
}

/**
 * Ingest's side: queue a delivery's messages, or park them while their connection is in a burst.
 * The store is opened on the first burst (`openStore`, once per instance): ordinary traffic never
 * touches it, and ingest's cold start need not load it.
 */
export class BurstParking {
  private readonly detector = new BurstDetector();
  private store: Promise<Store> | undefined;

  constructor(private readonly deps: Omit<ParkingDeps, 'store'> & { openStore: () => Promise<Store> }) {}

  async send(connectionId: string, messages: QueueMessage[], settings: BurstSettings): Promise<'queued' | 'parked'> {
    const now = this.deps.now();
    if (!this.detector.note(connectionId, messages.length, now, settings)) {
      await this.deps.queue.send(messages);
      return 'queued';
    }
    const parked = messages.map((message) => {
      const entry = sqsEntry(message);
      return { at: now, id: entry.MessageDeduplicationId, body: entry.MessageBody };
    });
    const store = await this.openStore();
    await store.parkMessages(connectionId, parked, Math.floor(now / 1000) + PARKED_TTL_SECONDS);
    count('MessagesParked', {}, parked.length);
    // After the write, so a drain that ends (finds nothing, lets go) either sees these or lets this start one.
    await startDrain(connectionId, { store, queue: this.deps.queue, now: this.deps.now });
    return 'parked';
  }

  private openStore(): Promise<Store> {
    if (!this.store) {
      this.store = this.deps.openStore();
      this.store.catch(() => (this.store = undefined)); // a failed load is tried again by the next burst
    }
    return this.store;
  }
}

/** Starts a drain of the connection's parked messages, unless one holds the lease; true if started. */
export async function startDrain(connectionId: string, deps: ParkingDeps): Promise<boolean> {
  const now = deps.now();
  const drainId = `${now.toString(36)}-${randomBytes(4).toString('hex')}`;
  if (!(await deps.store.holdDrain(connectionId, drainId, now + DRAIN_LEASE_MS, now))) return false;
  await deps.queue.send([{ v: QUEUE_SCHEMA_VERSION, kind: 'drain', connectionId, drainId, turn: 0 }]);
  return true;
}

/**
 * Sync's side: one turn of a drain. Moves the connection's oldest parked messages to the queue
 * (sent before they are deleted: a crash in between sends them again with the same
 * deduplication ids, which SQS drops, and sync is idempotent past that), then queues the next
 * turn behind them. Ends when nothing is parked: it lets the lease go and looks once more, so a
 * message parked meanwhile is either seen here or starts a drain of its own at ingest.
 */
export async function drainTurn(message: DrainMessage, deps: ParkingDeps & { turnSize: number }): Promise<{ moved: number; next: boolean }> {
  const { store, queue, now } = deps;
  const { connectionId, drainId } = message;
  let parked = await store.listParked(connectionId, deps.turnSize);
  if (parked.length === 0) {
    if (!(await store.releaseDrain(connectionId, drainId))) return { moved: 0, next: false }; // another drain has it
    parked = await store.listParked(connectionId, deps.turnSize);
    if (parked.length === 0) return { moved: 0, next: false };
  }
  // Held (or taken again) for this turn and the wait for the next one; lost: another drain goes on.
  const at = now();
  if (!(await store.holdDrain(connectionId, drainId, at + DRAIN_LEASE_MS, at))) return { moved: 0, next: false };
  const messages: QueueMessage[] = [];
  for (const item of parked) {
    const read = readQueueMessage(item.body);
    if ('message' in read) messages.push(read.message);
    else {
      // Parked by a release whose messages this one cannot read: set aside, as sync would.
      logger.error('a parked message cannot be read by this release; set aside in the DLQ', { reason: read.error });
      await queue.deadLetter(item.body, `${connectionId}#parked`, read.error);
    }
  }
  await queue.send(messages);
  await store.deleteParked(connectionId, parked.map((item) => item.id));
  count('ParkedMessagesMoved', {}, parked.length);
  await queue.send([{ ...message, turn: message.turn + 1 }]);
  return { moved: parked.length, next: true };
}

/** The sweep's side: a drain for every connection with parked messages and no live drain (one that died). */
export async function restartDrains(connectionIds: string[], deps: ParkingDeps): Promise<number> {
  let started = 0;
  for (const connectionId of connectionIds) {
    if ((await deps.store.listParked(connectionId, 1)).length > 0 && (await startDrain(connectionId, deps))) started++;
  }
  if (started > 0) logger.warn('drains of parked messages restarted', { started });
  return started;
}
