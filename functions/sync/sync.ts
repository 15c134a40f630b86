import { findProperty, type Config, type PropertyConfig, type TargetName } from '../core/config.ts';
import { PermanentError, RetryableError, errorMessage } from '../core/errors.ts';
import { classify } from '../core/failure.ts';
import { randomUUID } from 'node:crypto';
import { emailHash, fingerprint } from '../core/hash.ts';
import { MAX_INLINE_WAIT_MS } from '../core/http-client.ts';
import { own } from '../core/own.ts';
import { count, level, logger } from '../core/powertools.ts';
import { drainTurn } from '../core/parking.ts';
import { QUEUE_SCHEMA_VERSION, type DrainMessage, type Queue, type QueueMessage, type ReservationMessage, type ResyncMessage, type TargetWorkMessage } from '../core/queue.ts';
import type { Reservation } from '../core/reservation.ts';
import { StaleWriteError, type ReservationKey, type SnapshotRecord, type Store, type TargetState, type TraceEntry } from '../core/store.ts';
import { CREATE_INTENT_LEASE_MS, SYNC_TIMEOUT_SECONDS } from '../core/budget.ts';
import { localToEpochSeconds } from '../core/local-time.ts';
import type { FetcherLookup } from '../sources/fetcher.ts';
import type { StatePatch, Target } from '../targets/target.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { HandoffDirty, TargetStateWriter, heldByLane } from './state-writer.ts';
import { MessageStep, changedFields, recordTrace, traceActions, withCarriedStep, type TraceBatch } from './trace.ts';

/**
 * Level-triggered sync of one reservation: keep the newest snapshot, then drive every
 * routed target toward it. Duplicates and out-of-order deliveries change nothing,
 * because an older snapshot is never stored and a target is called only when the
 * record it should hold differs from the one last applied there.
 */

export interface SyncDeps {
  config: Config;
  store: Store;
  targets: Partial<Record<TargetName, Target>>;
  now: () => number;
  /** PMS API readers for thin events (notify-then-fetch), per connection. */
  fetchers?: FetcherLookup;
  /** Where backfill queues what it reads (the worker's own queue). */
  queue?: Queue;
  /** The invocation's trace steps, written together at its end (trace.ts). */
  traceBatch?: TraceBatch;
}

export interface TargetOutcome {
  target: TargetName;
  action: string;
  error?: { code: string; permanent: boolean };
  /** Epoch ms when parked (pending) work is due again. */
  retryAt?: number;
}

/** About the message being handled, for its trace step. */
export interface MessageContext {
  /** SQS receive count: above 1 the message is a retry. */
  attempt?: number;
}

export interface SyncOutcome {
  /** Whether this message's snapshot replaced the stored one. */
  snapshotChanged: boolean;
  unrouted: boolean;
  targets: TargetOutcome[];
  /** The first retryable failure, if any: the message must be retried. */
  retry?: RetryableError;
}


export async function syncMessage(message: QueueMessage, deps: SyncDeps, context: MessageContext = {}): Promise<SyncOutcome> {
  // Thin events: fetch from the PMS API, then carry on exactly like a `reservation` message.
  // A client's reservations synced here (no queue to put them in their groups) never hold an intent.
  // These kinds' code is loaded on their first message: a cold start that syncs a reservation skips it.
  if (message.kind === 'reservation_ref' || message.kind === 'client_ref') {
    const { fetchThenSync } = await import('./fetch-then-sync.ts');
    return fetchThenSync(message, deps, (full) => syncReservation(full, deps, context, message.kind === 'reservation_ref'), context);
  }
  if (message.kind === 'erase') return (await import('./erase.ts')).eraseReservation(message, deps);
  if (message.kind === 'offboard') return (await import('./offboard.ts')).offboardGuest(message, deps);
  if (message.kind === 'backfill') return (await import('./backfill.ts')).backfillPage(message, deps);
  if (message.kind === 'reconcile') return (await import('./reconcile.ts')).reconcileRun(message, deps);
  if (message.kind === 'drain') return drainParked(message, deps);
  if (message.kind === 'target') return laneWork(message, deps, context);
  return message.kind === 'reservation' ? syncReservation(message, deps, context) : resyncReservation(message, deps, context);
}

/** One turn of a connection's parked burst (parking.ts): no reservation of its own is synced. */
async function drainParked(message: DrainMessage, deps: SyncDeps): Promise<SyncOutcome> {
  if (!deps.queue) throw new Error('a drain needs the queue');
  const { moved, next } = await drainTurn(message, { store: deps.store, queue: deps.queue, now: deps.now, turnSize: deps.config.burstParking.turn });
  logger.info('parked messages moved to the queue', { moved, next });
  return { snapshotChanged: false, unrouted: false, targets: [] };
}

/** The email-hash key, read once per store (i.e. per worker). */
const emailKeys = new WeakMap<Store, Promise<Buffer | undefined>>();
async function emailHashOf(reservation: Reservation, deps: SyncDeps): Promise<{ emailHash?: string }> {
  if (!reservation.guest.email) return {};
  let key = emailKeys.get(deps.store);
  if (!key) {
    key = deps.store.emailHashKey({ create: true });
    emailKeys.set(deps.store, key);
    key.catch(() => emailKeys.delete(deps.store)); // a failed read is tried again by the next message
  }
  const bytes = await key;
  return bytes ? { emailHash: emailHash(bytes, reservation.guest.email) } : {};
}

/** One breaker per store (i.e. per worker), so its short read cache is shared across messages. */
const breakers = new WeakMap<Store, CircuitBreaker>();
function breakerFor(deps: SyncDeps): CircuitBreaker {
  let breaker = breakers.get(deps.store);
  if (!breaker) breakers.set(deps.store, (breaker = new CircuitBreaker(deps.store, deps.config.circuitBreaker, deps.now)));
  return breaker;
}

/** Re-drives the targets toward the stored snapshot, e.g. after a property was added or a target recovered. */
async function resyncReservation(message: ResyncMessage, deps: SyncDeps, context: MessageContext): Promise<SyncOutcome> {
  const statesRead = readStatesAhead(message, deps);
  const stored = await deps.store.getSnapshot(message);
  if (!stored) {
    logger.warn('resync asked for a reservation with no stored snapshot', { reason: message.reason });
    return { snapshotChanged: false, unrouted: false, targets: [] };
  }
  // A resync that found every target in step is not a step worth recording.
  const step = stepOf(deps, { via: 'resync', reason: message.reason, ...attemptOf(context) }, (actions) => actions.some((a) => a.action !== 'unchanged' && a.action !== 'stale'));
  // The config may have changed since it was stored (a property added): route it afresh.
  // A resync may follow a config change: a lane holding a target's work looks again too.
  const outcome = await syncSnapshot(stored, false, deps, statesRead, true, step, firstCreateOf(stored, false, undefined, true));
  if (message.reason === 'sweep') await forgetUnroutedDueWork(stored, deps);
  await recordPendingStep(deps, message, step, stored.ttl);
  return outcome;
}

/** Due work for a target the property no longer routes to would be swept again forever: drop its due time. */
async function forgetUnroutedDueWork(stored: SnapshotRecord, deps: SyncDeps): Promise<void> {
  const property = findProperty(deps.config, stored.reservation.connectionId, stored.reservation.propertyId);
  for (const state of await deps.store.listTargetStates(stored.reservation)) {
    const routed = property && own(property.targets, state.target) && own(deps.targets, state.target);
    // A lane holding the work finds the route gone itself and hands it back.
    if (!routed && typeof state.dueAt === 'number' && heldByLane(state, deps.now()) === undefined) {
      // A concurrent write wins; the next sweep would try again.
      await deps.store.putTargetState(stored.reservation, { ...state, dueAt: null, updatedAt: deps.now(), version: state.version + 1 }).catch(() => undefined);
    }
  }
}

/** `inGroup`: this attempt runs in the reservation's message group (FirstCreate). */
async function syncReservation(message: ReservationMessage, deps: SyncDeps, context: MessageContext, inGroup = true): Promise<SyncOutcome> {
  const { reservation } = message;
  const property = findProperty(deps.config, reservation.connectionId, reservation.propertyId);
  // The targets whose first create's intent this attempt may hold (FirstCreate).
  const heldFor = inGroup && property ? routedTargets(property, deps).map((target) => target.name) : [];
  const record: SnapshotRecord = {
    reservation,
    contentHash: fingerprint({ ...reservation, sourceVersion: 0 }),
    unrouted: !property,
    ttl: retentionTtl(reservation, property, deps.config.retentionDays, deps.now()),
    storedAt: deps.now(),
    ...(heldFor.length > 0 ? { heldFor } : {}),
  };
  // The targets' states do not depend on this write: read them meanwhile (one round trip less per message).
  const statesRead = readStatesAhead(reservation, deps);
  const saved = await deps.store.saveSnapshotIfNewer(record, { ...(await emailHashOf(reservation, deps)), receivedAt: message.receivedAt });
  if ('erased' in saved) {
    // Erased on request: the guest must not come back until an operator lifts the tombstone.
    count('DeliveryIgnoredErased', { source: reservation.source });
    logger.info('delivery ignored: the reservation was erased');
    return { snapshotChanged: false, unrouted: false, targets: [] };
  }
  const { stored, changed, previous } = saved;
  const step = stepOf(deps, {
    via: 'delivery',
    deliveryId: message.deliveryId,
    ...attemptOf(context),
    event: { status: reservation.status, sourceStatus: reservation.sourceStatus, version: reservation.sourceVersion },
    snapshot: !changed
      ? stored.contentHash === record.contentHash && stored.reservation.sourceVersion === reservation.sourceVersion
        ? 'duplicate'
        : 'older'
      : !previous
        ? 'created'
        : previous.reservation.sourceVersion < reservation.sourceVersion
          ? 'newer'
          : 'tie_replaced',
    ...(changed && previous ? { changed: changedFields(previous.reservation, reservation) } : {}),
  });
  const outcome = await syncSnapshot(stored, changed, deps, statesRead, changed, step, firstCreateOf(stored, changed, previous, inGroup));
  await recordPendingStep(deps, reservation, step, stored.ttl);
  return outcome;
}

/** The message's trace step, carried by a target's state write where it can be (trace.ts); none when the trace is off. */
function stepOf(deps: SyncDeps, header: ConstructorParameters<typeof MessageStep>[0], worthRecording?: ConstructorParameters<typeof MessageStep>[2]): MessageStep | undefined {
  return deps.config.trace === false ? undefined : new MessageStep(header, deps.now, worthRecording);
}

/** The step as an item of its own, when no target's state write carried it. */
async function recordPendingStep(deps: SyncDeps, key: ReservationKey, step: MessageStep | undefined, ttl: number): Promise<void> {
  const entry = step?.pending();
  if (entry) await recordTrace(deps, key, entry, ttl);
}

function attemptOf(context: MessageContext): { attempt?: number } {
  return context.attempt !== undefined ? { attempt: context.attempt } : {};
}

/**
 * All of a reservation's target states, read with one consistent query while the snapshot is
 * written or read (the same read unit a single target's GetItem costs). A state written meanwhile
 * by another path is caught by the versioned state write, as when read a moment later. Not
 * awaited when the snapshot step fails: its rejection is observed here so it cannot go unhandled.
 */
function readStatesAhead(key: ReservationKey, deps: SyncDeps): Promise<TargetState[]> {
  const read = deps.store.listTargetStates({ connectionId: key.connectionId, reservationId: key.reservationId });
  read.catch(() => undefined);
  return read;
}

/**
 * The snapshot write is a first create's intent. A target's create intent (the lease that keeps
 * two attempts from creating at once, and what tells a later attempt to look the record up
 * before it creates) costs a write of its own before the call. For a target whose state was never
 * written, the attempt that has just stored the snapshot keeps that intent in memory instead and
 * writes it with whatever it writes next for the target (the outcome, a failure, a park): one
 * write where there were two, on every new reservation. The snapshot names the targets it was
 * routed to (`heldFor`): what a crash in between leaves is such a snapshot and a state never
 * written. A message that ends has written the state of every routed target it found unwritten,
 * and the reservation's other messages run one at a time in its group (a client's resync queues
 * one message per reservation there, fetch-then-sync.ts). So whoever finds a state unwritten for
 * a target the snapshot names knows the attempt that stored it may have sent a create: another
 * copy of its message (a redelivery, or a second copy at once after a visibility timeout ran out)
 * retries without writing while that attempt's lease runs, then looks the record up before it
 * creates; a later message that replaces the snapshot (the first one went to the DLQ) looks up at
 * once. Lanes, resyncs and every later create write their intent first, as before.
 */
export interface FirstCreate {
  /** This attempt stored the snapshot: it holds its first creates' intents until its next write. */
  hold: boolean;
  /** A snapshot whose storer may have sent a create it held the intent of, and whether its attempt is over. */
  earlier?: { snapshot: SnapshotRecord; over: boolean };
}

function firstCreateOf(stored: SnapshotRecord, changed: boolean, previous: SnapshotRecord | undefined, inGroup: boolean): FirstCreate | undefined {
  if (!inGroup) return undefined;
  // A snapshot this attempt replaced was stored by a message that is over (its group ran it first).
  if (changed) return { hold: true, ...(previous?.heldFor ? { earlier: { snapshot: previous, over: true } } : {}) };
  // Not stored now: the attempt that stored it may be a copy of this message, still running.
  return stored.heldFor ? { hold: false, earlier: { snapshot: stored, over: false } } : undefined;
}

/** The property's targets this worker has a client for: the ones a sync drives. */
function routedTargets(property: PropertyConfig, deps: SyncDeps): Target[] {
  return (Object.keys(property.targets) as TargetName[]).flatMap((name) => {
    const target = own(deps.targets, name);
    return target ? [target] : [];
  });
}

/** `nudge`: a lane holding a target's work must look at the snapshot again (it changed, or a resync asks). */
async function syncSnapshot(stored: SnapshotRecord, changed: boolean, deps: SyncDeps, statesRead?: Promise<TargetState[]>, nudge = changed, step?: MessageStep, firstCreate?: FirstCreate): Promise<SyncOutcome> {
  const { reservation } = stored;
  const property = findProperty(deps.config, reservation.connectionId, reservation.propertyId);
  if (!property) {
    // Kept, not dropped: once the property is configured, a resync recovers it.
    logger.warn('reservation parked: its property is not in the config', { propertyId: reservation.propertyId });
    count('ReservationUnrouted', { source: reservation.source });
    return { snapshotChanged: changed, unrouted: true, targets: [] };
  }

  const outcome: SyncOutcome = { snapshotChanged: changed, unrouted: false, targets: [] };
  const current = stored.reservation;
  const routed = routedTargets(property, deps);
  // All the targets' states in one read (one request, one unit for all of them): usually read
  // while the snapshot was written; otherwise here (one target: its item).
  const key: ReservationKey = { connectionId: reservation.connectionId, reservationId: reservation.reservationId };
  const states = statesRead || routed.length > 1 ? new Map((await (statesRead ?? deps.store.listTargetStates(key))).map((state) => [state.target, state])) : undefined;
  // Independent targets, each with its own state item: in parallel, so a slow one delays no other.
  step?.expect(routed.map((target) => target.name));
  const results = await Promise.all(
    routed.map((target) =>
      reconcileTarget(target, key, current, property, stored.ttl, deps, { nudge, ...(step ? { step } : {}), ...(firstCreate ? { firstCreate } : {}), ...(states ? { read: { state: states.get(target.name) } } : {}) }).then((result) => {
        step?.finished(result.outcome);
        return result;
      }),
    ),
  );
  for (const result of results) {
    outcome.targets.push(result.outcome);
    if (result.retry && !outcome.retry) outcome.retry = result.retry;
  }
  return outcome;
}

/** One target toward the snapshot; its failure never blocks or repeats the others. */
async function reconcileTarget(
  target: Target,
  key: ReservationKey,
  reservation: Reservation,
  property: PropertyConfig,
  ttl: number,
  deps: SyncDeps,
  options: {
    /** The target's state when already read with the others' (undefined inside: none stored yet). */
    read?: { state: TargetState | undefined };
    /** A lane worker's writer, holding the hand-off mark: the work is done here, never handed off. */
    lane?: TargetStateWriter;
    /** Whether a lane holding the work must look at the snapshot again. */
    nudge?: boolean;
    /** The message's trace step, which this target's outcome write carries if it finishes last. */
    step?: MessageStep;
    /** Whether this attempt holds a first create's intent, and what an earlier one may have held: see FirstCreate. */
    firstCreate?: FirstCreate;
  } = {},
): Promise<{ outcome: TargetOutcome; retry?: RetryableError }> {
  const { read, lane, step } = options;
  const initial = (read ? read.state : await deps.store.getTargetState(key, target.name)) ?? freshState(target.name, ttl, deps.now());
  // A state never written: this attempt holds a first create's intent until its next write (FirstCreate).
  const unwritten = !lane && initial.version === 0;
  const writer = lane ?? new TargetStateWriter(deps.store, key, initial, deps.now, { ttl }, undefined, unwritten && options.firstCreate?.hold === true);
  const { save } = writer;
  /** The write of this target's outcome: it carries the message's trace step when this target decides last. */
  const saveOutcome = async (patch: StatePatch, outcome: TargetOutcome): Promise<void> => {
    const entry = step?.toCarry(target.name, outcome);
    if (!entry) await save(patch);
    else if (await saveCarrying(writer, key, patch, entry, deps, ttl)) step!.carriedBy(entry);
  };
  // While a lane holds this work (hand-off mark), no one else calls the target for it.
  if (!lane) {
    const withLane = await yieldToLane(target.name, key, writer, options.nudge ?? false, deps);
    if (withLane) return withLane;
  }
  const breaker = breakerFor(deps);
  let desired: Record<string, unknown> | null;
  let wanted = 'unmappable';
  // Time-driven targets (RecepAI) name the instant their record next changes; the sweep enqueues it then.
  let due: number | null = null;
  try {
    desired = target.desired(reservation, property);
    due = target.dueAt?.(reservation, property) ?? null;
  } catch (error) {
    // The reservation cannot be expressed for this target (e.g. a time that cannot be placed).
    return record(new PermanentError(errorMessage(error), 'unmappable_reservation'));
  }
  wanted = desired === null ? 'absent' : fingerprint(desired);
  // Never older after newer: a snapshot older than the one this target last got is not applied,
  // whichever path carries it (a lane, a resync, a replay from the DLQ).
  if (writer.state.appliedVersion != null && reservation.sourceVersion < writer.state.appliedVersion) {
    count('TargetSkippedStale', { target: target.name });
    return { outcome: { target: target.name, action: 'stale' } };
  }
  if (writer.state.appliedFingerprint === wanted && SETTLED.has(writer.state.status)) {
    const outcome: TargetOutcome = { target: target.name, action: 'unchanged' };
    if ((writer.state.dueAt ?? null) !== due) await saveOutcome({ dueAt: due }, outcome);
    count('TargetSkipped', { target: target.name });
    return { outcome };
  }

  // The attempt that stored a snapshot naming this target wrote nothing here: it may have sent a
  // create it held the intent of in memory (FirstCreate). Before anything here writes the state.
  const earlier = unwritten ? options.firstCreate?.earlier : undefined;
  if (earlier?.snapshot.heldFor?.includes(target.name)) {
    const intended = earlierDesired(target, earlier.snapshot, property);
    if (intended) {
      const inFlightUntil = earlier.over ? 0 : earlier.snapshot.storedAt + CREATE_INTENT_LEASE_MS;
      if (inFlightUntil > deps.now()) {
        // Not parked: a park would write the state that attempt's outcome write expects unwritten.
        const seconds = Math.ceil((inFlightUntil - deps.now()) / 1000);
        return record(new RetryableError(`${target.name}: an earlier delivery of this message may still be creating the record; retrying in ${seconds}s`, seconds, 'earlier_delivery_in_flight'));
      }
      writer.reset({ ...writer.state, intent: { fingerprint: fingerprint(intended), startedAt: earlier.snapshot.storedAt, inFlightUntil, desired: intended } });
    }
  }

  if (property.mode === 'shadow') return shadow();

  const pausedUntil = await breaker.pausedUntil(target.name);
  if (pausedUntil !== undefined) return park(pausedUntil, 'target_paused', `${target.name} is paused after repeated failures`);

  let done = () => {};
  if (!lane) {
    const turn = await handOff(target, key, writer, deps);
    if (turn === 'handed_off') return { outcome: { target: target.name, action: 'handed_off' } };
    // Another attempt wrote the state first: retry, as when the state write after a call is refused.
    if (turn === 'stale') return record(new RetryableError(`${target.name}: its state changed before the hand-off`, undefined, 'stale_state'));
    done = turn;
  }
  const started = deps.now();
  try {
    const result = await target.apply({ key, reservation, property, desired, fingerprint: wanted, state: writer.state, save }).finally(done);
    await saveOutcome({ ...result.patch, lastError: null, dueAt: due, failures: 0, appliedVersion: reservation.sourceVersion, shadow: null, behindSince: null }, { target: target.name, action: result.action }).catch((error: unknown) => {
      // The target answered, but its answer could not be stored (a throttle): the create is over,
      // so the failure recorded next lets the next attempt look the record up at once.
      const intent = writer.state.intent;
      if (intent && intent.inFlightUntil > 0 && !(error instanceof StaleWriteError)) writer.reset({ ...writer.state, intent: { ...intent, inFlightUntil: 0 } });
      throw error;
    });
    level('TargetBehindSeconds', 0, { target: target.name });
    await breaker.recordSuccess(target.name);
    count('TargetSynced', { target: target.name, action: result.action });
    // Debug only: "reservation synced" names every target's action, and TargetLatency has the time.
    logger.debug('target synced', { target: target.name, action: result.action, ms: deps.now() - started });
    return { outcome: { target: target.name, action: result.action } };
  } catch (error) {
    return record(error);
  }

  async function record(error: unknown): Promise<{ outcome: TargetOutcome; retry?: RetryableError }> {
    const failure = classify(error);
    const { permanent, code } = failure;
    const lastError = { code, message: failure.message, permanent, at: deps.now() };
    if (code === 'rate_limited') count('TargetRateLimited', { target: target.name });
    count(permanent ? 'TargetFailedPermanent' : 'TargetFailedRetryable', { target: target.name });
    logger.warn('target sync failed', { target: target.name, code, permanent, error: lastError.message });
    const outcome: TargetOutcome = { target: target.name, action: 'failed', error: { code, permanent } };
    const retry = (): { outcome: TargetOutcome; retry: RetryableError } => ({
      outcome,
      retry: error instanceof RetryableError ? error : new RetryableError(lastError.message, failure.retryAfterSeconds, code, { cause: error }),
    });
    // Another attempt owns the state (ours would be stale too, or would be written under an
    // earlier delivery's held intent), or this one ran out of time before it could try: retry,
    // without counting a failed attempt.
    if (code === 'stale_state' || code === 'deadline_exceeded' || code === 'earlier_delivery_in_flight') return retry();
    if (permanent) {
      try {
        // A definite "no" is remembered against this content: retried only when the content changes.
        await saveOutcome({ status: 'failed', appliedFingerprint: wanted, lastError, dueAt: due, failures: 0, behindSince: null }, outcome);
      } catch (saveError) {
        // An intent held in memory (FirstCreate) must not end with the message: it is retried.
        if (writer.state.version === 0 && writer.state.intent) throw saveError;
        logger.error('could not record target failure', { target: target.name, error: errorMessage(saveError) });
      }
      return { outcome };
    }
    // A target that stays down, or asks for a long wait, must hold neither this worker nor the reservation's group.
    const pausedUntil = failure.outage ? await breaker.recordFailure(target.name) : undefined;
    if (pausedUntil !== undefined) return park(pausedUntil, code, lastError.message);
    // A Retry-After longer than the HTTP client waits out inline parks the work as pending.
    if ((failure.retryAfterSeconds ?? 0) * 1000 > MAX_INLINE_WAIT_MS) return park(deps.now() + failure.retryAfterSeconds! * 1000, code, lastError.message);
    // Only this target's own failed attempts count toward "pending", never how often SQS delivered the message.
    const failures = (writer.state.failures ?? 0) + 1;
    if (failures >= deps.config.circuitBreaker.attemptsBeforePending) {
      return park(deps.now() + Math.max((failure.retryAfterSeconds ?? 0) * 1000, deps.config.circuitBreaker.pauseSeconds * 1000), code, lastError.message);
    }
    try {
      await saveOutcome({ status: 'retrying', lastError, failures, behindSince: behind() }, outcome);
    } catch (saveError) {
      logger.error('could not record target failure', { target: target.name, error: errorMessage(saveError) });
    }
    return retry();
  }

  /** Since when this target has been behind (kept from the first failure), reported as a level for the lagging alarm. */
  function behind(): number {
    const since = writer.state.behindSince ?? deps.now();
    level('TargetBehindSeconds', (deps.now() - since) / 1000, { target: target.name });
    return since;
  }

  /**
   * Shadow mode: record the call the target would get (once per content), make none. The applied
   * fingerprint stays as it was, so once the property is live the same comparison makes the call.
   */
  async function shadow(): Promise<{ outcome: TargetOutcome }> {
    const exists = Object.keys(writer.state.targetIds).length > 0;
    const action = writer.state.appliedFingerprint === wanted ? 'none' : desired === null ? (exists ? 'delete' : 'none') : exists ? 'update' : 'create';
    if (writer.state.shadow?.fingerprint !== wanted || writer.state.status !== 'shadow') {
      const outcome: TargetOutcome = { target: target.name, action: `shadow_${action}` };
      await saveOutcome({ status: 'shadow', shadow: { action, fingerprint: wanted, at: deps.now() }, dueAt: due }, outcome);
      count('TargetShadowed', { target: target.name });
      return { outcome };
    }
    return { outcome: { target: target.name, action: 'unchanged' } };
  }

  /** "Pending, retry at T": the message is done; the sweep re-enqueues the reservation at T. */
  async function park(retryAt: number, code: string, message: string): Promise<{ outcome: TargetOutcome }> {
    const lastError = { code, message, permanent: false, at: deps.now() };
    const outcome: TargetOutcome = { target: target.name, action: 'pending', error: { code, permanent: false }, retryAt };
    try {
      await saveOutcome({ status: 'pending', lastError, dueAt: retryAt, failures: 0, behindSince: behind() }, outcome);
    } catch (saveError) {
      // Without the pending record nothing would bring the work back: let the message retry.
      logger.error('could not park target work as pending', { target: target.name, error: errorMessage(saveError) });
      throw saveError;
    }
    logger.info('target work pending', { target: target.name, code, retryAt: new Date(retryAt).toISOString() });
    return { outcome };
  }
}

/**
 * Lanes (docs/throughput.md, "Each target drains its own backlog"). A sync worker that would wait
 * long for a target's turn hands that target's work for the reservation to the target's lane (its
 * own FIFO queue) and goes on with the other targets, so a slow or rate-limited target holds no
 * other back. The work stays exclusive per reservation and target without a write on the ordinary
 * path: the worker first writes a hand-off mark on the target's state (in the reservation's
 * group, so every later message of the reservation sees it), then sends the lane message. While
 * the mark is live only the lane calls the target for the reservation; a worker that changes the
 * snapshot meanwhile sets the mark's `dirty`, and the lane goes again before it hands back.
 */
/**
 * A target whose next call would wait longer than this many of its account's turns (at its
 * configured rate: 1.1 s at Minut's 1.8 a second) gets the work on its lane; counted in turns, the
 * rule is the same whatever the rate. Never for a wait under HANDOFF_MIN_WAIT_MS: the lane's hop
 * and writes cost more than that. A client that does not pace: HANDOFF_WAIT_MS (a Retry-After).
 */
export const HANDOFF_TURNS = 2;
export const HANDOFF_MIN_WAIT_MS = 250;
export const HANDOFF_WAIT_MS = 1_000;
/** Once it had to hand a target's work off, a worker keeps doing so this long (the lane has the rate meanwhile). */
export const HANDOFF_STICKY_MS = 60_000;
/** How long a hand-off mark holds before the lane starts: its queue may be minutes behind under a backlog. */
export const HANDOFF_HOLD_MS = 15 * 60_000;
/** How long a lane worker holds the mark once it starts: longer than its invocation may run. */
export const LANE_HOLD_MS = SYNC_TIMEOUT_SECONDS * 1000 + 60_000;
/** Times a lane goes again for a snapshot that changed under it before it lets the message come back. */
const LANE_PASSES = 5;

/**
 * A live hand-off mark: the lane has the work; nudge it if the snapshot changed. A lapsed mark (its
 * lane died, or its queue fell far behind) is taken back with a write before anything is called, so
 * a lane that wakes later finds its mark gone. Undefined: no lane holds the work, go on here.
 */
async function yieldToLane(name: TargetName, key: ReservationKey, writer: TargetStateWriter, nudge: boolean, deps: SyncDeps): Promise<{ outcome: TargetOutcome; retry?: RetryableError } | undefined> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const mark = writer.state.handoff;
    if (!mark) return undefined;
    try {
      if (mark.until <= deps.now()) {
        await writer.save({ handoff: null });
        count('HandoffTakenBack', { target: name });
        logger.info('lapsed hand-off taken back from the lane', { target: name });
        return undefined;
      }
      if (nudge && !mark.dirty) await writer.save({ handoff: { ...mark, dirty: true } });
      // Again, in case the worker that wrote the mark died before it could send the message: the
      // lane queue drops a copy within its deduplication window, and a later one finds its work done.
      await deps.queue
        ?.sendToLane?.(laneMessage(key, name, mark.seq))
        .catch((error: unknown) => logger.warn("could not send the lane's message again", { target: name, error: errorMessage(error) }));
      return { outcome: { target: name, action: 'with_lane' } };
    } catch (error) {
      if (!(error instanceof StaleWriteError)) throw error;
      // The lane wrote meanwhile (or handed back): look again.
      writer.reset((await deps.store.getTargetState(key, name)) ?? freshState(name, writer.state.ttl, deps.now()));
    }
  }
  return { outcome: { target: name, action: 'failed', error: { code: 'stale_state', permanent: false } }, retry: new RetryableError(`${name}: its state kept changing under a hand-off`, undefined, 'stale_state') };
}

function laneMessage(key: ReservationKey, target: TargetName, seq: string): TargetWorkMessage {
  return { v: QUEUE_SCHEMA_VERSION, kind: 'target', connectionId: key.connectionId, reservationId: key.reservationId, target, seq };
}

/** Per worker and target client: its calls in flight here, and until when it hands all of that target's work off. */
const laneUse = new WeakMap<object, { inFlight: number; handOffUntil: number }>();

/**
 * Hands the work to the target's lane when its next call here would wait long for its turn, and
 * keeps doing so for HANDOFF_STICKY_MS; this worker's share of the target's rate goes back at once
 * (or when its last call here ends), so the lane runs at the account's full rate. Otherwise (or if
 * the lane cannot take it) the work is done here: the returned function ends the call.
 */
async function handOff(target: Target, key: ReservationKey, writer: TargetStateWriter, deps: SyncDeps): Promise<'handed_off' | 'stale' | (() => void)> {
  const pace = target.pace;
  const queue = deps.queue;
  if (!pace || !queue?.sendToLane || !queue.hasLane?.(target.name)) return () => {};
  let use = laneUse.get(pace);
  if (!use) laneUse.set(pace, (use = { inFlight: 0, handOffUntil: 0 }));
  const now = deps.now();
  const sticky = now < use.handOffUntil;
  const slow = !sticky && (await pace.pacingWaitMs()) > (pace.turnMs > 0 ? Math.max(HANDOFF_TURNS * pace.turnMs, HANDOFF_MIN_WAIT_MS) : HANDOFF_WAIT_MS);
  if (sticky || slow) {
    const before = writer.state.dueAt ?? null;
    const seq = `${now.toString(36)}-${randomUUID().slice(0, 8)}`;
    // The mark first, then the message: every later message of the reservation sees the mark.
    // Its due time brings the work back through the sweep if the lane message is ever lost.
    try {
      await writer.save({ handoff: { seq, until: now + HANDOFF_HOLD_MS, dirty: false }, dueAt: now + HANDOFF_HOLD_MS });
    } catch (error) {
      if (error instanceof StaleWriteError) return 'stale';
      throw error;
    }
    try {
      await queue.sendToLane(laneMessage(key, target.name, seq));
    } catch (error) {
      logger.warn("could not hand the work to the target's lane; doing it here", { target: target.name, error: errorMessage(error) });
      await writer.save({ handoff: null, dueAt: before });
      return startCall(pace, use, deps);
    }
    if (slow) use.handOffUntil = now + HANDOFF_STICKY_MS;
    if (use.inFlight === 0) await pace.releaseShare().catch(() => undefined); // else the last call here gives it back
    count('TargetHandedOff', { target: target.name });
    return 'handed_off';
  }
  return startCall(pace, use, deps);
}

/**
 * The end of a main worker's invocation: each target it has no call in flight on gets its share of
 * the rate back while this worker hands work off (a backlog: the lanes want the whole rate), or
 * while another worker is busy there, rather than hold it until the lease lapses. A quiet worker
 * keeps its leases: nothing to pay.
 */
export async function releaseIdleShares(targets: SyncDeps['targets'], now: number): Promise<void> {
  const paces = Object.values(targets).flatMap((target) => (target?.pace ? [target.pace] : []));
  // Handing any target's work off lately: a backlog, whose lanes want the whole rate.
  const backlog = paces.some((pace) => now < (laneUse.get(pace)?.handOffUntil ?? 0));
  await Promise.all(
    paces.map(async (pace) => {
      if ((laneUse.get(pace)?.inFlight ?? 0) > 0) return;
      const release = backlog ? pace.releaseShare() : pace.releaseShareIfContended();
      await release.catch(() => undefined); // it lapses anyway
    }),
  );
}

function startCall(pace: NonNullable<Target['pace']>, use: { inFlight: number; handOffUntil: number }, deps: SyncDeps): () => void {
  use.inFlight++;
  return () => {
    if (--use.inFlight === 0 && deps.now() < use.handOffUntil) void pace.releaseShare().catch(() => undefined);
  };
}

/**
 * A lane's message: this target toward the stored snapshot, while the hand-off mark is still the
 * message's. The lane holds the mark for its invocation, reads the snapshot only then, and hands
 * the work back when done, unless the snapshot changed meanwhile (`dirty`): then it goes again.
 */
async function laneWork(message: TargetWorkMessage, deps: SyncDeps, context: MessageContext): Promise<SyncOutcome> {
  const name = message.target as TargetName;
  const key: ReservationKey = { connectionId: message.connectionId, reservationId: message.reservationId };
  const outcome: SyncOutcome = { snapshotChanged: false, unrouted: false, targets: [] };
  const state = await deps.store.getTargetState(key, name);
  if (state?.handoff?.seq !== message.seq) {
    // Handed back already, taken back after it lapsed, or erased: nothing of this message's is left.
    count('LaneWorkSuperseded', { target: name });
    return outcome;
  }
  const writer = new TargetStateWriter(deps.store, key, state, deps.now, {}, message.seq);
  for (let pass = 1; ; pass++) {
    // A reservation changing all the time: the mark stays, the message comes back (its backoff).
    if (pass > LANE_PASSES) return { ...outcome, retry: new RetryableError(`${name}: the reservation kept changing under the lane`, undefined, 'stale_state') };
    const until = deps.now() + LANE_HOLD_MS;
    await writer.save({ handoff: { seq: message.seq, until, dirty: false } });
    const stored = await deps.store.getSnapshot(key);
    const property = stored && findProperty(deps.config, key.connectionId, stored.reservation.propertyId);
    const target = own(deps.targets, name);
    let result: { outcome: TargetOutcome; retry?: RetryableError } = { outcome: { target: name, action: 'unrouted' } };
    if (stored && property && target && own(property.targets, name)) {
      result = await reconcileTarget(target, key, stored.reservation, property, stored.ttl, deps, { lane: writer });
      // The mark stays: the message is retried (its backoff), and holds the work meanwhile.
      if (result.retry) return { ...outcome, targets: [result.outcome], retry: result.retry };
    }
    try {
      // The lane's step rides on the hand-back, a write made anyway (trace.ts).
      const entry = stored && result.outcome.action !== 'unchanged' && deps.config.trace !== false ? { at: deps.now(), via: 'lane' as const, ...attemptOf(context), targets: traceActions([result.outcome]) } : undefined;
      const handBack: StatePatch = { handoff: null, ...(result.outcome.action === 'unrouted' ? { dueAt: null } : {}) };
      if (!stored || !entry) await writer.save(handBack);
      else if (!(await saveCarrying(writer, key, handBack, entry, deps, stored.ttl))) await recordTrace(deps, key, entry, stored.ttl);
      return { ...outcome, targets: [result.outcome] };
    } catch (error) {
      if (!(error instanceof HandoffDirty)) throw error;
      count('LaneWorkAgain', { target: name });
    }
  }
}

/**
 * Saves `patch` with `entry` among the state's carried trace steps when it fits in the write's
 * one unit (trace.ts); the steps it moves off go to an item of their own. Whether it carried `entry`.
 */
async function saveCarrying(writer: TargetStateWriter, key: ReservationKey, patch: StatePatch, entry: TraceEntry, deps: SyncDeps, ttl: number): Promise<boolean> {
  const carried = withCarriedStep({ ...writer.state, ...patch }, entry, (state) => deps.store.targetStateBytes(key, state));
  await writer.save(carried ? { ...patch, trace: carried.trace } : patch);
  if (carried) await recordTrace(deps, key, carried.moved, ttl);
  return carried !== undefined;
}

/** What the attempt that stored `snapshot` would have created at the target; none if nothing. */
function earlierDesired(target: Target, snapshot: SnapshotRecord, property: PropertyConfig): Record<string, unknown> | undefined {
  try {
    return target.desired(snapshot.reservation, property) ?? undefined;
  } catch {
    return undefined; // it could not have been created either
  }
}

/**
 * States whose applied fingerprint says what the target holds, so the same content needs no
 * call: not work still under way (retrying, pending), a shadow plan, or a guest left by offboarding.
 */
const SETTLED: ReadonlySet<TargetState['status']> = new Set(['synced', 'absent', 'readonly', 'failed']);

function freshState(target: string, ttl: number, now: number): TargetState {
  return { target, status: 'absent', targetIds: {}, appliedFingerprint: null, intent: null, lastError: null, warnings: [], dueAt: null, applied: null, ttl, updatedAt: now, version: 0 };
}

/**
 * Guest data is kept until checkout plus the configured retention, then DynamoDB expires it.
 * An event about a stay that has already ended counts from now instead: otherwise its items
 * would expire at once, and a late redelivery would find no state (and no target ids) at all.
 */
export function retentionTtl(reservation: Reservation, property: PropertyConfig | undefined, retentionDays: number, nowMs: number): number {
  const zone = property?.timeZone ?? reservation.stay.timeZone ?? 'UTC';
  const time = reservation.stay.checkOutTime ?? property?.checkOutTime ?? '11:00';
  let checkout: number;
  try {
    checkout = localToEpochSeconds(reservation.stay.checkOutDate, time, zone);
  } catch {
    // A zone this runtime cannot place (the model admits only valid ones): UTC is a day off at most.
    checkout = localToEpochSeconds(reservation.stay.checkOutDate, time, 'UTC');
  }
  return Math.max(checkout, Math.floor(nowMs / 1000)) + retentionDays * 86_400;
}
