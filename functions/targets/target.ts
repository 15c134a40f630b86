import { randomUUID } from 'node:crypto';
import { sha256Hex } from '../core/hash.ts';
import { HttpClient } from '../core/http-client.ts';
import { RateShare } from '../core/rate-share.ts';
import type { Config, PropertyConfig, TargetName } from '../core/config.ts';
import type { SecretStore } from '../core/secrets.ts';
import type { Reservation } from '../core/reservation.ts';
import type { ReservationKey, Store, TargetState } from '../core/store.ts';

/**
 * A target adapter. Sync asks it for the record the target should hold (`desired`; null
 * when no guest should exist) and, only when that differs from what was applied last,
 * to `apply` it. `apply` creates, updates or removes, and returns the new state; it may
 * call `save` in between (e.g. an intent before a create) so a crash leaves a trace.
 */
export interface Target<Desired extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: TargetName;
  /** What the vendor still holds after the removal (a cancel, a check-out): erasure reports it. Absent: nothing. */
  readonly keptAfterRemoval?: string;
  desired(reservation: Reservation, property: PropertyConfig): Desired | null;
  /**
   * For targets whose record depends on the time (RecepAI holds only in-house guests): epoch
   * ms when `desired` next changes, so the sweep re-enqueues the reservation then.
   */
  dueAt?(reservation: Reservation, property: PropertyConfig): number | null;
  apply(input: ApplyInput<Desired>): Promise<ApplyResult>;
  /**
   * For `guest-sync config check`: proves the credentials work with one read-only request (e.g. a
   * token grant); throws naming them if not; resolves with a note when there was nothing to ask.
   */
  checkCredentials?(): Promise<string | void>;
  /** Reconciliation (`guest-sync reconcile`): read what the target holds, to compare with what was applied. */
  reconciliation?: Reconciliation<Desired>;
  /** The adapter's paced client: how long its next call would wait, for handing work to the target's lane (sync.ts). */
  readonly pace?: Pick<HttpClient, 'pacingWaitMs' | 'turnMs' | 'releaseShare' | 'releaseShareIfContended'>;
}

export interface Reconciliation<Desired> {
  /** The id of its record among the state's `targetIds` (e.g. Minut `guestId`). */
  idOf(targetIds: Record<string, string>): string | undefined;
  /** Every record the route (a Minut home, a Kasify property) holds for stays within [from, to] (local dates), all pages. */
  list(property: PropertyConfig, window: { from: string; to: string }): Promise<HeldRecord<Desired>[]>;
  /**
   * What to change on the state, beside marking it for a retry, so the next sync repairs this kind
   * of drift: targets that send only what changed since `applied` forget it, so all is sent again.
   */
  repairPatch?(kind: string): StatePatch;
}

/** A record a target holds, as reconciliation compares it: never logged, never stored. */
export interface HeldRecord<Desired> {
  id: string;
  /** In effect (not cancelled or checked out). */
  active: boolean;
  /** Whose it is, where the target keeps a marker (Kasify's channel id); undefined: it does not say. */
  ours?: ReservationKey;
  /** A vendor's native-integration guest: never ours, never touched. */
  readonly?: boolean;
  /** The names of the fields that differ from `desired` (what guest-sync would send now). */
  differs(desired: Desired): string[];
}

export interface ApplyInput<Desired> {
  key: ReservationKey;
  reservation: Reservation;
  property: PropertyConfig;
  desired: Desired | null;
  fingerprint: string;
  /** The stored state, or a fresh one (version 0) for a first sync. */
  state: TargetState;
  /** Persists a state (version bumped by the caller's rules) and returns what was saved. */
  save(next: StatePatch): Promise<TargetState>;
}

/**
 * Before a create whose repeat is harmless (it names the same record: HostelMate's booking id,
 * RecepAI's pmsGuestId): an intent without a lease or guest data, kept until an outcome clears
 * it, so an attempt that dies after sending the create leaves what a later removal needs to
 * undo it. `kept`: what that removal needs, e.g. the hotel's slug.
 */
export async function noteCreateSent(input: ApplyInput<unknown>, now: number, kept: Record<string, unknown> = {}): Promise<void> {
  if (!input.state.intent) await input.save({ intent: { fingerprint: input.fingerprint, startedAt: now, inFlightUntil: 0, desired: kept } });
}

export type StatePatch = Partial<Pick<TargetState, 'status' | 'targetIds' | 'appliedFingerprint' | 'intent' | 'lastError' | 'warnings' | 'dueAt' | 'applied' | 'failures' | 'appliedVersion' | 'shadow' | 'behindSince' | 'handoff' | 'trace'>>;

export interface ApplyResult {
  patch: StatePatch;
  /** What happened, for logs and metrics: created, updated, deleted, adopted, unchanged, readonly. */
  action: string;
}

/** What every target adapter is built from. */
export interface TargetDeps {
  config: Config;
  secrets: SecretStore;
  store: Store;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Distinguishes workers (Lambda instances) in the target's logs, via User-Agent. */
  instanceId?: string;
  /**
   * Whether to pace at this worker's share of the account's rate (rate-share.ts); default true.
   * A one-off caller (`guest-sync config check`: one request per target) paces alone instead.
   */
  shareRate?: boolean;
}

/** One vendor account: the API's base URL and the credentials used there. Keys its token and its rate share. */
export function vendorAccountKey(name: string, baseUrl: string, credentialsRef: string): string {
  return `${name}#${sha256Hex(`${baseUrl.replace(/\/+$/, '')}\n${credentialsRef}`).slice(0, 16)}`;
}

/**
 * The paced HTTP client of a target, one per worker. Its rate is the vendor account's, shared by
 * every worker that calls the same base URL with the same credentials (rate-share.ts).
 */
export function targetHttpClient(
  name: string,
  settings: { baseUrl: string; credentials: string; requestsPerSecond?: number | undefined; burst?: number | undefined; timeoutSeconds: number },
  deps: TargetDeps,
): { http: HttpClient; instanceId: string } {
  const instanceId = deps.instanceId ?? randomUUID().slice(0, 8);
  const now = deps.now ?? Date.now;
  // Nothing to share without a configured rate (the client does not pace then).
  const share = deps.shareRate === false || !settings.requestsPerSecond ? undefined : new RateShare({ key: vendorAccountKey(name, settings.baseUrl, settings.credentials), worker: instanceId, store: deps.store, now, requestsPerSecond: settings.requestsPerSecond });
  const http = new HttpClient({
    name,
    ...(settings.requestsPerSecond !== undefined ? { requestsPerSecond: settings.requestsPerSecond } : {}),
    ...(settings.burst !== undefined ? { burst: settings.burst } : {}),
    timeoutMs: settings.timeoutSeconds * 1000,
    userAgent: `guest-sync (${instanceId})`,
    now,
    ...(share ? { share } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  return { http, instanceId };
}
