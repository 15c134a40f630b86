import * as z from './zod.ts';
import { GuestSyncError } from './errors.ts';
import type { TargetName } from './config.ts';
import { Reservation } from './reservation.ts';

/**
 * What sync remembers, per reservation: the newest snapshot and, per target, what was
 * applied there. Every item that holds guest data carries a `ttl` (epoch seconds).
 */

/**
 * Stored items carry `schemaVersion` (absent: 1, the first release). Each release reads the
 * one before: v1 snapshots had no party split.
 */
export const STORE_SCHEMA_VERSION = 2;

export function upgradeSnapshot(data: unknown, schemaVersion: number): unknown {
  if (schemaVersion >= 2 || typeof data !== 'object' || data === null) return data;
  const record = data as { reservation?: Record<string, unknown> };
  if (!record.reservation || 'party' in record.reservation) return data;
  return { ...record, reservation: { ...record.reservation, party: { adults: null, children: null, infants: null } } };
}

export const SnapshotRecord = z.object({
  reservation: Reservation,
  contentHash: z.string(),
  /** True while the property is missing from the config: parked until it is added and resynced. */
  unrouted: z.boolean(),
  ttl: z.int(),
  storedAt: z.number(),
  /**
   * The targets it was routed to when stored. The attempt that stored it may hold a first
   * create's intent for them in memory until its next state write (sync.ts, FirstCreate).
   */
  heldFor: z.optional(z.array(z.string())),
});
export type SnapshotRecord = z.infer<typeof SnapshotRecord>;

export const targetStatuses = [
  'synced', // the target holds what the snapshot asks for
  'absent', // no guest should exist, and none does
  'readonly', // a guest from a native integration that we must leave alone
  'failed', // a permanent error for this content; retried only when the content changes
  'retrying', // a retryable error; the message is retried with backoff
  'pending', // the target is down (or kept failing): the sweep re-enqueues the work at `dueAt`
  'shadow', // the property is in shadow mode: nothing was sent; `shadow` says what would have been
  'offboarded', // its route was removed from the config and the guest left at the target (offboarding: leave)
] as const;

/** What sync did to the stored snapshot with one delivery (trace.ts). */
export const snapshotResults = [
  'created', // the first snapshot of this reservation
  'newer', // a newer version replaced the stored one
  'tie_replaced', // the same version with other content: the later received delivery wins
  'duplicate', // the same version and content: nothing changed
  'older', // older than the stored one (or the same version, other content, received earlier): ignored
  'fetch_failed', // a thin event whose PMS read failed (retried)
  'nothing_fetched', // a thin event the PMS API had nothing for
] as const;

/** One target's action in a trace entry: never guest data, only what happened and the answer's code. */
export const TraceTargetAction = z.object({
  target: z.string(),
  /** created, updated, deleted, adopted, unchanged, stale, pending, failed, readonly, shadow_create, ... */
  action: z.string(),
  code: z.optional(z.string()),
  permanent: z.optional(z.boolean()),
  /** Epoch ms: when parked work is due again. */
  retryAt: z.optional(z.number()),
});
export type TraceTargetAction = z.infer<typeof TraceTargetAction>;

/**
 * One step of a reservation's timeline (`guest-sync trace`): a delivery sync processed, or a
 * resync that did something, with what happened to the snapshot (the names of the fields that
 * changed, never their values) and to each target. Written once per message with the
 * reservation's ttl: on the state of the target that finished the message last when it wrote
 * (`TargetState.trace`, no write of its own), else as an item of its own (sync/trace.ts).
 */
export const TraceEntry = z.object({
  /** Epoch ms when sync finished with the message. */
  at: z.number(),
  /** `lane`: a target's lane did the work a delivery or resync handed to it (sync.ts). */
  via: z.enum(['delivery', 'resync', 'lane']),
  deliveryId: z.optional(z.string()),
  /** For a resync: who asked (operator, sweep, ...). */
  reason: z.optional(z.string()),
  /** SQS receive count of the message: above 1 it is a retry. */
  attempt: z.optional(z.int()),
  /** The delivery's reservation status, the PMS status as sent and its version. */
  event: z.optional(z.object({ status: z.string(), sourceStatus: z.string(), version: z.number() })),
  snapshot: z.optional(z.enum(snapshotResults)),
  changed: z.optional(z.array(z.string())),
  /** Why a thin event's PMS read failed. */
  code: z.optional(z.string()),
  targets: z.array(TraceTargetAction),
});
export type TraceEntry = z.infer<typeof TraceEntry>;

export const TargetError = z.object({
  code: z.string(),
  message: z.string(),
  permanent: z.boolean(),
  at: z.number(),
});
export type TargetError = z.infer<typeof TargetError>;

export const TargetState = z.object({
  target: z.string(),
  status: z.enum(targetStatuses),
  /** The target's own ids, e.g. Minut `{ homeId, guestId }`. */
  targetIds: z.record(z.string(), z.string()),
  /** Fingerprint of the last desired record the target accepted (or that failed permanently). */
  appliedFingerprint: z.nullable(z.string()),
  /**
   * Written before a create on a target that does not deduplicate; cleared once its id is
   * stored. Until `inFlightUntil` (epoch ms) no other attempt may create: a create may be
   * under way. After it, an attempt looks the guest up on the target before creating.
   */
  intent: z.nullable(z.object({ fingerprint: z.string(), startedAt: z.number(), inFlightUntil: z.number(), desired: z.record(z.string(), z.unknown()) })),
  lastError: z.nullable(TargetError),
  /** Informational findings from the target, e.g. Minut `validation_errors`. */
  warnings: z.array(z.string()),
  /**
   * Epoch ms when the sweep should re-enqueue this reservation for this target: a pending
   * retry, or a time-driven transition (RecepAI check-in/out). Null: nothing scheduled.
   */
  dueAt: z.optional(z.nullable(z.number())),
  /** Failed attempts in a row at this target (its own, not SQS receives); pending after `attemptsBeforePending`. */
  failures: z.optional(z.int().check(z.nonnegative())),
  /**
   * Epoch ms since when this target has not held what the snapshot asks for because of retryable
   * failures (retrying or pending); null once it does, or once the target refused for good.
   * `guest-sync status --lagging` and the lagging alarm read it.
   */
  behindSince: z.optional(z.nullable(z.number())),
  /** The snapshot's `sourceVersion` this target last got: an older snapshot is never applied after it. */
  appliedVersion: z.optional(z.nullable(z.number())),
  /**
   * Shadow mode: the call sync would have made for the content `fingerprint` (create, update,
   * delete, or none), instead of making it. Cleared once the property is live and synced.
   */
  shadow: z.optional(z.nullable(z.object({ action: z.enum(['create', 'update', 'delete', 'none']), fingerprint: z.string(), at: z.number() }))),
  /** The record the target last accepted, for targets that send only what changed (RecepAI, HostelMate). */
  applied: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  /**
   * The hand-off mark (sync.ts, lanes): while `until` (epoch ms) is ahead, this target's work for
   * the reservation belongs to the lane message `seq`, and no one else calls the target for it.
   * `dirty`: the snapshot may have changed since the lane read it; the lane goes again.
   */
  handoff: z.optional(z.nullable(z.object({ seq: z.string(), until: z.number(), dirty: z.boolean() }))),
  /**
   * The reservation's latest trace steps, oldest first, written with this state instead of an
   * item each (sync/trace.ts); moved to an item of their own once they no longer fit in the
   * state's one write unit.
   */
  trace: z.optional(z.array(TraceEntry)),
  ttl: z.int(),
  updatedAt: z.number(),
  /** Optimistic lock: each write expects the version it read. */
  version: z.int().check(z.nonnegative()),
});
export type TargetState = z.infer<typeof TargetState>;

export const CachedToken = z.object({
  accessToken: z.nullable(z.string()),
  /** Epoch ms. */
  expiresAt: z.nullable(z.number()),
  /** Epoch ms after which workers should get a new token (ahead of expiry). */
  refreshAt: z.nullable(z.number()),
  leaseOwner: z.nullable(z.string()),
  leaseUntil: z.nullable(z.number()),
});
export type CachedToken = z.infer<typeof CachedToken>;

/** A target's shared circuit breaker (one item per target), see functions/sync/circuit-breaker.ts. */
export const CircuitState = z.object({
  target: z.string(),
  /** Outage failures in a row, across all reservations; a success resets it. */
  failures: z.int().check(z.nonnegative()),
  /** Epoch ms until which the target is paused; null when closed. */
  openUntil: z.nullable(z.number()),
  version: z.int().check(z.nonnegative()),
});
export type CircuitState = z.infer<typeof CircuitState>;

export interface DueItem {
  key: ReservationKey;
  target: string;
  dueAt: number;
}

/**
 * The items only thin events' failed reads, unreadable messages, erasure and the jobs write and
 * read: built on first use, so a cold start that syncs a reservation does not build them.
 */
function buildRarerItems() {
  /**
   * The last failed fetch-back from a PMS API (notify-then-fetch) for a reservation: what an
   * operator reads when a thin event keeps failing and lands in the DLQ. Holds no guest data;
   * its ttl outlives the DLQ's 14-day retention a little.
   */
  const FetchErrorRecord = z.object({
    source: z.string(),
    code: z.string(),
    message: z.string(),
    deliveryId: z.string(),
    /** Epoch ms of the last failure. */
    at: z.number(),
    /** Failed attempts since the last success. */
    failures: z.int().check(z.nonnegative()),
    ttl: z.int(),
  });

  /**
   * A queue message sync could not read, set aside in the DLQ on its first receive: the reason,
   * next to the reservation its body names, for `guest-sync status`. No guest data; kept as
   * long as the DLQ keeps the message, and a little longer.
   */
  const UnreadableRecord = z.object({
    messageId: z.string(),
    reason: z.string(),
    /** Epoch ms. */
    at: z.number(),
    ttl: z.int(),
  });

  /** What erasure did at one target (no guest data). */
  const ErasureAtTarget = z.object({
    target: z.string(),
    /** deleted, cancelled, checked_out, nothing_there, not_ours (a native integration's guest), refused, not_configured */
    result: z.string(),
    code: z.optional(z.string()),
    /** What the target keeps anyway, per docs/erasure.md (e.g. a cancelled booking's dates). */
    note: z.optional(z.string()),
  });

  /**
   * Left in place of an erased reservation's snapshot: later deliveries meet it and are ignored
   * (counted), so the guest does not come back, until an operator lifts it. No personal data; kept
   * for the retention period.
   */
  const Tombstone = z.object({
    requestedAt: z.number(),
    /** The PMS property (not personal data): the erase worker routes to its targets with it. */
    propertyId: z.nullable(z.string()),
    /** `erasing` until every target is done and the data deleted; then `erased`. */
    status: z.enum(['erasing', 'erased']),
    targets: z.array(ErasureAtTarget),
    /** Items deleted once the targets were done. */
    deletedItems: z.optional(z.int().check(z.nonnegative())),
    finishedAt: z.optional(z.number()),
    /** Deliveries ignored since. */
    ignoredDeliveries: z.optional(z.int().check(z.nonnegative())),
  });

  /** A backfill run (`guest-sync backfill`), updated by the worker page by page; no guest data. */
  const BackfillJob = z.object({
    jobId: z.string(),
    connectionId: z.string(),
    propertyId: z.nullable(z.string()),
    from: z.string(),
    to: z.string(),
    dryRun: z.boolean(),
    status: z.enum(['queued', 'running', 'done', 'failed']),
    pages: z.int().check(z.nonnegative()),
    /** Reservations the PMS listed in the window (and property). */
    listed: z.int().check(z.nonnegative()),
    /** Queued to sync like webhooks (not in a dry run). */
    queued: z.int().check(z.nonnegative()),
    /** Of a property missing from the config (queued all the same: parked as unrouted). */
    unrouted: z.int().check(z.nonnegative()),
    total: z.nullable(z.int().check(z.nonnegative())),
    /** Dry run: per target, how many creates, updates, removals and no-ops it would get. */
    plan: z.record(z.string(), z.record(z.string(), z.int().check(z.nonnegative()))),
    /** Dry run: the first planned calls (reservation id, target, action). */
    planned: z.array(z.object({ reservationId: z.string(), target: z.string(), action: z.string() })),
    lastError: z.nullable(z.string()),
    startedAt: z.number(),
    updatedAt: z.number(),
  });

  /** A reconciliation run (`guest-sync reconcile`, or the daily schedule); no guest data. */
  const ReconcileJob = z.object({
    jobId: z.string(),
    connectionId: z.nullable(z.string()),
    propertyId: z.nullable(z.string()),
    dryRun: z.boolean(),
    status: z.enum(['running', 'done', 'failed']),
    /** Per target: records compared (the sum of `checkedByConnection`). */
    checked: z.record(z.string(), z.int().check(z.nonnegative())),
    /** The same per connection (one step each), so a retried step counts its records once. */
    checkedByConnection: z._default(z.record(z.string(), z.record(z.string(), z.int().check(z.nonnegative()))), {}),
    /** Drift found (and repaired, unless a dry run): missing, edited (which fields), should_be_removed. */
    drift: z.array(z.object({ connectionId: z.string(), reservationId: z.string(), target: z.string(), kind: z.string(), fields: z.optional(z.array(z.string())) })),
    /** Records at a target that guest-sync did not create (or no longer knows): reported, never touched. */
    unknown: z.array(z.object({ connectionId: z.string(), target: z.string(), propertyId: z.string(), id: z.string(), why: z.string() })),
    /** Targets without a list API to compare with. */
    unchecked: z.array(z.string()),
    /** The backfill jobs that re-read the PMSs (a webhook never sent). */
    backfills: z.array(z.string()),
    lastError: z.nullable(z.string()),
    startedAt: z.number(),
    updatedAt: z.number(),
  });
  return { FetchErrorRecord, UnreadableRecord, ErasureAtTarget, Tombstone, BackfillJob, ReconcileJob };
}

type RarerItems = ReturnType<typeof buildRarerItems>;
let rarerItems: RarerItems | undefined;
export function rarerItemSchemas(): RarerItems {
  return (rarerItems ??= buildRarerItems());
}
export type FetchErrorRecord = z.infer<RarerItems['FetchErrorRecord']>;
export type UnreadableRecord = z.infer<RarerItems['UnreadableRecord']>;
export type ErasureAtTarget = z.infer<RarerItems['ErasureAtTarget']>;
export type Tombstone = z.infer<RarerItems['Tombstone']>;
export type BackfillJob = z.infer<RarerItems['BackfillJob']>;
export type ReconcileJob = z.infer<RarerItems['ReconcileJob']>;

/** A stored reservation with its target states (scans: operator commands and reconciliation). */
export interface StoredReservation {
  key: ReservationKey;
  snapshot?: SnapshotRecord;
  states: TargetState[];
}

export interface RateLease {
  worker: string;
  since: number;
  busy: boolean;
  /** From when its worker may call (a joiner waits until every busy worker has counted it). */
  admittedAt: number;
  /**
   * The part of the rate its worker took at its last count, and until when that binds the others:
   * while the worker paces (its calls wait for their turns), until its next count is due; else
   * for the turn of the call it counted for (rate-share.ts). 0 while it waits to be admitted.
   */
  claim: number;
  claimUntil: number;
}

/** What a worker says of its part of the rate: `claim` binds the others until `claimUntil`. */
export interface RateClaim {
  claim: number;
  claimUntil: number;
}

export interface ReservationKey {
  connectionId: string;
  reservationId: string;
}

/** A queue message parked during a connection's burst (parking.ts): its sort key and SQS body. */
export interface ParkedMessage {
  id: string;
  body: string;
}

export class StaleWriteError extends GuestSyncError {
  override name = 'StaleWriteError';
}

export interface Store {
  /**
   * Stores the snapshot if it is newer than the stored one, or the same version with other
   * content received later (`receivedAt`: when ingest received this copy, or sync read it from
   * the PMS API; the later copy wins even when the earlier one reaches sync last, as a burst's
   * parked copy can; a snapshot stored without it loses a tie). Returns what is stored now, or
   * the tombstone of an erased reservation (nothing is stored then). `emailHash` (the keyed
   * hash of the guest's email) lets `guest-sync erase --email` find it.
   */
  saveSnapshotIfNewer(record: SnapshotRecord, attributes?: { emailHash?: string; receivedAt?: number }): Promise<{ stored: SnapshotRecord; changed: boolean; previous?: SnapshotRecord } | { erased: Tombstone }>;
  /** The stored snapshot; undefined when there is none, or the reservation was erased. */
  getSnapshot(key: ReservationKey): Promise<SnapshotRecord | undefined>;

  /** Replaces the snapshot with a tombstone (kept until `ttl`): no later snapshot can be stored over it. */
  putTombstone(key: ReservationKey, tombstone: Tombstone, ttl: number): Promise<void>;
  getTombstone(key: ReservationKey): Promise<Tombstone | undefined>;
  /** The reservation's one item as either (they share a key): one read where both are asked about. */
  getSnapshotOrTombstone(key: ReservationKey): Promise<{ snapshot?: SnapshotRecord; tombstone?: Tombstone }>;
  /** Removes the tombstone (an operator lifts it): deliveries are processed again. */
  liftTombstone(key: ReservationKey): Promise<boolean>;
  /** Deletes every item of the reservation but its snapshot (or tombstone); returns how many. */
  deleteReservationData(key: ReservationKey): Promise<number>;
  /**
   * The key of the email hash snapshots carry for erasure by email (made on first use, random).
   * Undefined from `readOnly` callers when none exists yet.
   */
  emailHashKey(options?: { create: boolean }): Promise<Buffer | undefined>;
  getTargetState(key: ReservationKey, target: TargetName): Promise<TargetState | undefined>;
  /** Writes `state` if the stored version is still `state.version - 1` (or absent for version 1); else StaleWriteError. */
  putTargetState(key: ReservationKey, state: TargetState): Promise<void>;
  listTargetStates(key: ReservationKey): Promise<TargetState[]>;
  /** Target states whose `dueAt` is at or before `nowMs` (a sparse index, not a scan), oldest first. */
  listDue(target: string, nowMs: number, limit: number): Promise<DueItem[]>;

  getCircuit(target: string): Promise<CircuitState | undefined>;
  /** Writes `state` if the stored version is still `state.version - 1` (or absent for version 1); else StaleWriteError. */
  putCircuit(state: CircuitState): Promise<void>;

  getToken(key: string): Promise<CachedToken | undefined>;
  /** Takes the refresh lease if nobody holds an unexpired one and no fresh token is stored. */
  tryLeaseToken(key: string, owner: string, untilMs: number, nowMs: number): Promise<boolean>;
  /** Stores a fresh token and releases the lease, if `owner` still holds it. */
  putToken(key: string, owner: string, accessToken: string, expiresAtMs: number, refreshAtMs: number): Promise<boolean>;
  /** Forgets a token the target rejected, unless another worker already replaced it. */
  dropToken(key: string, accessToken: string): Promise<void>;

  /**
   * Holds (or renews) `worker`'s lease on a share of the vendor account's rate until `untilMs`
   * (a new lease may call from `admitAt` on) and returns every unexpired lease on it, this one
   * included: when each was taken and may call, and whether its worker is using its share.
   * `held`: the worker renewed within its lease's time, so the lease is live and is renewed as it
   * is; otherwise it is new or lapsed and starts now.
   */
  renewRateLease(key: string, worker: string, lease: { untilMs: number; busy: boolean; admitAt: number; held: boolean } & RateClaim, nowMs: number): Promise<RateLease[]>;
  /** Lets a new lease call from `admittedAt` on (it found no busy worker to wait for), and/or says what part of the rate it took. */
  updateRateLease(key: string, worker: string, update: { admittedAt?: number } & Partial<RateClaim>): Promise<void>;
  /** The live leases on a vendor account, read only (no lease taken). */
  listRateLeases(key: string, nowMs: number): Promise<RateLease[]>;
  /** Ends a worker's lease now, so the others count without it at their next renewal. */
  releaseRateLease(key: string, worker: string, nowMs: number): Promise<void>;

  /** Records a failed PMS fetch for the reservation; returns the failures so far. Cleared by the next success. */
  recordFetchError(key: ReservationKey, error: Omit<FetchErrorRecord, 'failures'>): Promise<number>;
  clearFetchError(key: ReservationKey): Promise<void>;
  getFetchError(key: ReservationKey): Promise<FetchErrorRecord | undefined>;

  putBackfillJob(job: BackfillJob): Promise<void>;
  putReconcileJob(job: ReconcileJob): Promise<void>;
  getReconcileJob(jobId: string): Promise<ReconcileJob | undefined>;
  /** Every stored reservation (of one connection) with its target states: a table scan. */
  scanReservations(connectionId?: string): Promise<StoredReservation[]>;
  getBackfillJob(jobId: string): Promise<BackfillJob | undefined>;

  /** Adds steps to reservations' timelines, one item per element (kept until its `ttl`, epoch seconds), in batches. */
  appendTraces(items: { key: ReservationKey; entries: TraceEntry[]; ttl: number }[]): Promise<void>;
  /** The reservation's timeline, oldest first: its trace items and the steps its target states carry. */
  listTrace(key: ReservationKey): Promise<TraceEntry[]>;
  /** The size DynamoDB bills a write of this state by (attribute names and values, in bytes). */
  targetStateBytes(key: ReservationKey, state: TargetState): number;

  /** Records why a message about the reservation was set aside in the DLQ (the latest one wins). */
  recordUnreadable(key: ReservationKey, record: UnreadableRecord): Promise<void>;
  getUnreadable(key: ReservationKey): Promise<UnreadableRecord | undefined>;

  /** Parks a connection's queue messages (its burst, parking.ts), in order of `at` (epoch ms), kept until `ttl`. */
  parkMessages(connectionId: string, messages: { at: number; id: string; body: string }[], ttl: number): Promise<void>;
  /** The connection's oldest parked messages, at most `limit` (a strongly consistent read). */
  listParked(connectionId: string, limit: number): Promise<ParkedMessage[]>;
  deleteParked(connectionId: string, ids: string[]): Promise<void>;
  /**
   * Takes the connection's drain lease for `drainId` until `untilMs`, or renews it if `drainId`
   * holds it; false while another drain holds an unexpired one.
   */
  holdDrain(connectionId: string, drainId: string, untilMs: number, nowMs: number): Promise<boolean>;
  /** Gives the lease up if `drainId` still holds it; false if another drain has taken it. */
  releaseDrain(connectionId: string, drainId: string): Promise<boolean>;
}
