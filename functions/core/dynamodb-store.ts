import { randomBytes, randomUUID } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, paginateQuery, paginateScan, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from './zod.ts';
import type { TargetName } from './config.ts';
import {
  type BackfillJob,
  CachedToken,
  CircuitState,
  type DueItem,
  type FetchErrorRecord,
  type ReconcileJob,
  SnapshotRecord,
  StaleWriteError,
  STORE_SCHEMA_VERSION,
  TargetState,
  type Tombstone,
  TraceEntry,
  type UnreadableRecord,
  upgradeSnapshot,
  rarerItemSchemas,
  type ParkedMessage,
  type RateClaim,
  type RateLease,
  type ReservationKey,
  type StoredReservation,
  type Store,
} from './store.ts';

/**
 * The Store on one DynamoDB table (pk/sk, `ttl` for expiry). Items:
 *   RES#<connection>#<reservation> / SNAPSHOT        the newest reservation snapshot
 *   RES#<connection>#<reservation> / TARGET#<name>   per-target state
 *   TOKEN#<key>                    / TOKEN           a target's OAuth token, shared by all workers
 *   CIRCUIT#<target>               / CIRCUIT         a target's circuit breaker, shared by all workers
 * Target states with a due time (a pending retry, a RecepAI check-in/out) also carry
 * `dueBucket` = DUE#<target> and `dueAt` (epoch ms): the sparse index `due` holds only those,
 * so the sweep finds due work with a query, never a scan.
 *   RES#<connection>#<reservation> / FETCH_ERROR     the last failed PMS API fetch (thin events)
 *   RES#<connection>#<reservation> / UNREADABLE      why the last unreadable message about it went to the DLQ
 *   RES#<connection>#<reservation> / TRACE#<ms>#<id>  one step of its timeline (no guest data)
 * An erased reservation's SNAPSHOT item is a tombstone (`tombstone: true`, no guest data).
 *   BACKFILL#<job>                 / JOB             a backfill run's progress (no guest data)
 *   RECONCILE#<job>                / JOB             a reconciliation run's report (no guest data)
 *   KEY#email-hash                 / KEY             the key of the email hash on snapshots (erase --email)
 *   PARK#<connection>              / MSG#<ms>#<id>   a queue message of a burst, parked until its turn (parking.ts)
 *   PARK#<connection>              / DRAIN           the lease of the drain that feeds them to the queue
 * Every item carries `schemaVersion` (absent on the first release's items, read as 1).
 * Records are stored as a JSON `data` attribute (parsed with zod on the way out) plus the
 * few top-level attributes that conditions need. Only single-item conditional writes:
 * cheaper than transactions, and the embedded stand-in has none.
 */
export class DynamoDbStore implements Store {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async saveSnapshotIfNewer(record: SnapshotRecord, attributes: { emailHash?: string; receivedAt?: number } = {}): Promise<{ stored: SnapshotRecord; changed: boolean; previous?: SnapshotRecord } | { erased: Tombstone }> {
    const key = snapshotKey(record.reservation);
    try {
      // The replaced item comes back at no extra cost: the trace names the fields that changed.
      const out = await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            schemaVersion: STORE_SCHEMA_VERSION,
            version: record.reservation.sourceVersion,
            contentHash: record.contentHash,
            ttl: record.ttl,
            ...attributes,
            data: JSON.stringify(record),
          },
          // A tie (same version, other content) goes to the later received copy. Never over a
          // tombstone: an erased guest does not come back.
          ConditionExpression:
            '(attribute_not_exists(pk) OR version < :v OR (version = :v AND contentHash <> :h AND (attribute_not_exists(receivedAt) OR receivedAt <= :r))) AND attribute_not_exists(tombstone)',
          ExpressionAttributeValues: { ':v': record.reservation.sourceVersion, ':h': record.contentHash, ':r': attributes.receivedAt ?? Number.MAX_SAFE_INTEGER },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = out.Attributes ? snapshotOf(out.Attributes) : undefined;
      return { stored: record, changed: true, ...(previous ? { previous } : {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      if (out.Item && out.Item.tombstone === true) return { erased: parseData(out.Item, rarerItemSchemas().Tombstone) };
      const stored = out.Item ? snapshotOf(out.Item) : undefined;
      if (!stored) throw new Error('snapshot vanished between a failed condition and the read');
      return { stored, changed: false };
    }
  }

  async getSnapshot(key: ReservationKey): Promise<SnapshotRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: snapshotKey(key), ConsistentRead: true }));
    return out.Item ? snapshotOf(out.Item) : undefined;
  }

  async putTombstone(key: ReservationKey, tombstone: Tombstone, ttl: number): Promise<void> {
    // Highest version there is, and a flag the snapshot write's condition refuses to replace.
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...snapshotKey(key), schemaVersion: STORE_SCHEMA_VERSION, version: Number.MAX_SAFE_INTEGER, contentHash: 'tombstone', tombstone: true, ttl, data: JSON.stringify(tombstone) },
      }),
    );
  }

  async getTombstone(key: ReservationKey): Promise<Tombstone | undefined> {
    return (await this.getSnapshotOrTombstone(key)).tombstone;
  }

  async getSnapshotOrTombstone(key: ReservationKey): Promise<{ snapshot?: SnapshotRecord; tombstone?: Tombstone }> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: snapshotKey(key), ConsistentRead: true }));
    if (!out.Item) return {};
    if (out.Item.tombstone === true) return { tombstone: parseData(out.Item, rarerItemSchemas().Tombstone) };
    const snapshot = snapshotOf(out.Item);
    return snapshot ? { snapshot } : {};
  }

  async liftTombstone(key: ReservationKey): Promise<boolean> {
    return this.ifConditionHolds(() => this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: snapshotKey(key), ConditionExpression: 'tombstone = :yes', ExpressionAttributeValues: { ':yes': true } })));
  }

  async deleteReservationData(key: ReservationKey): Promise<number> {
    let deleted = 0;
    const pages = paginateQuery(
      { client: this.doc },
      { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': reservationPk(key) }, ProjectionExpression: 'pk, sk', ConsistentRead: true },
    );
    for await (const page of pages) {
      for (const item of (page.Items ?? []).filter((item) => item.sk !== 'SNAPSHOT')) {
        await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: item.pk, sk: item.sk } }));
        deleted++;
      }
    }
    return deleted;
  }

  async emailHashKey(options: { create: boolean } = { create: true }): Promise<Buffer | undefined> {
    const Key = { pk: 'KEY#email-hash', sk: 'KEY' };
    const read = async () => {
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
      return typeof out.Item?.key === 'string' ? Buffer.from(out.Item.key, 'base64') : undefined;
    };
    const existing = await read();
    if (existing || !options.create) return existing;
    try {
      // Not guest data and never expiring: hashes written with it must stay findable.
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...Key, key: randomBytes(32).toString('base64') }, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error; // another worker made it first
    }
    return read();
  }

  async getTargetState(key: ReservationKey, target: TargetName): Promise<TargetState | undefined> {
    const item = await this.getItem(targetKey(key, target));
    return item && targetStateOf(item);
  }

  async putTargetState(key: ReservationKey, state: TargetState): Promise<void> {
    await this.putVersioned(
      targetStateItem(key, state),
      state.version,
      `target state ${state.target} for ${key.connectionId}#${key.reservationId} changed underneath (expected version ${state.version - 1})`,
    );
  }

  targetStateBytes(key: ReservationKey, state: TargetState): number {
    return itemBytes({ ...targetStateItem(key, state), version: state.version });
  }

  async listTargetStates(key: ReservationKey): Promise<TargetState[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': snapshotKey(key).pk, ':prefix': 'TARGET#' },
        // Sync acts on what it reads here: never a state older than the last write.
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map(targetStateOf);
  }

  async listDue(target: string, nowMs: number, limit: number): Promise<DueItem[]> {
    const due: DueItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'dueBucket = :bucket AND dueAt <= :now',
          ExpressionAttributeValues: { ':bucket': dueBucket(target), ':now': nowMs },
          ProjectionExpression: 'pk, sk, dueAt',
          Limit: Math.min(limit - due.length, 500),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        const key = reservationKeyOf(String(item.pk));
        if (key && typeof item.dueAt === 'number') due.push({ key, target, dueAt: item.dueAt });
      }
      start = out.LastEvaluatedKey;
    } while (start && due.length < limit);
    return due;
  }

  async getCircuit(target: string): Promise<CircuitState | undefined> {
    return this.getData(circuitKey(target), CircuitState);
  }

  async putCircuit(state: CircuitState): Promise<void> {
    await this.putVersioned({ ...circuitKey(state.target), data: JSON.stringify(state) }, state.version, `circuit ${state.target} changed underneath`);
  }

  async renewRateLease(key: string, worker: string, lease: { untilMs: number; busy: boolean; admitAt: number; held: boolean } & RateClaim, nowMs: number): Promise<RateLease[]> {
    // One item per worker, so renewals never contend; a day's ttl sweeps what dead workers leave.
    const Key = rateLeaseKey(key, worker);
    const names = { '#until': 'until', '#busy': 'busy', '#ttl': 'ttl', '#claim': 'claim', '#claimUntil': 'claimUntil' };
    const values = { ':until': lease.untilMs, ':now': nowMs, ':busy': lease.busy, ':ttl': Math.floor(nowMs / 1000) + 86_400, ':claim': lease.claim, ':claimUntil': lease.claimUntil };
    // A renewal keeps `since` and `admittedAt`. A worker that holds no lease goes straight to a
    // new one (the conditional renewal could only fail: one request less for every join).
    const renewed =
      lease.held &&
      (await this.ifConditionHolds(() =>
        this.doc.send(new UpdateCommand({ TableName: this.tableName, Key, UpdateExpression: 'SET #until = :until, #busy = :busy, #ttl = :ttl, #claim = :claim, #claimUntil = :claimUntil', ConditionExpression: '#until > :now', ExpressionAttributeNames: names, ExpressionAttributeValues: values })),
      ));
    if (!renewed) {
      // A new or lapsed lease starts now, admitted when the caller says.
      await this.doc.send(
        new UpdateCommand({ TableName: this.tableName, Key, UpdateExpression: 'SET #until = :until, #since = :now, #busy = :busy, #admit = :admit, #ttl = :ttl, #claim = :claim, #claimUntil = :claimUntil', ExpressionAttributeNames: { ...names, '#since': 'since', '#admit': 'admittedAt' }, ExpressionAttributeValues: { ...values, ':admit': lease.admitAt } }),
      );
    }
    return this.rateLeases(key, nowMs);
  }

  async updateRateLease(key: string, worker: string, update: { admittedAt?: number } & Partial<RateClaim>): Promise<void> {
    const fields = Object.entries(update).filter(([, value]) => value !== undefined);
    if (fields.length === 0) return;
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: rateLeaseKey(key, worker),
          UpdateExpression: `SET ${fields.map(([name]) => `#${name} = :${name}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(fields.map(([name]) => [`#${name}`, name])),
          ExpressionAttributeValues: Object.fromEntries(fields.map(([name, value]) => [`:${name}`, value])),
        }),
      )
      .catch((error: unknown) => {
        // Released meanwhile: nothing to say of a lease that is gone.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  listRateLeases(key: string, nowMs: number): Promise<RateLease[]> {
    return this.rateLeases(key, nowMs);
  }

  async releaseRateLease(key: string, worker: string, nowMs: number): Promise<void> {
    await this.doc
      .send(new UpdateCommand({ TableName: this.tableName, Key: rateLeaseKey(key, worker), UpdateExpression: 'SET #until = :now', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeNames: { '#until': 'until' }, ExpressionAttributeValues: { ':now': nowMs } }))
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  private async rateLeases(key: string, nowMs: number): Promise<RateLease[]> {
    const out = await this.doc.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': rateLeaseKey(key, '').pk }, ConsistentRead: true }),
    );
    return (out.Items ?? []).flatMap((item) => {
      const lease = RateLeaseItem.safeParse(item);
      if (!lease.success || lease.data.until <= nowMs) return [];
      return [{ worker: lease.data.sk.slice(RATE_LEASE_SK_PREFIX.length), since: lease.data.since, busy: lease.data.busy, admittedAt: lease.data.admittedAt ?? lease.data.since, claim: lease.data.claim, claimUntil: lease.data.claimUntil }];
    });
  }

  async getToken(key: string): Promise<CachedToken | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: tokenKey(key), ConsistentRead: true }));
    if (!out.Item) return undefined;
    return CachedToken.parse({
      accessToken: out.Item.accessToken ?? null,
      expiresAt: out.Item.expiresAt ?? null,
      refreshAt: out.Item.refreshAt ?? null,
      leaseOwner: out.Item.leaseOwner ?? null,
      leaseUntil: out.Item.leaseUntil ?? null,
    });
  }

  async tryLeaseToken(key: string, owner: string, untilMs: number, nowMs: number): Promise<boolean> {
    return this.ifConditionHolds(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: tokenKey(key),
        UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until, #ttl = if_not_exists(#ttl, :ttl)',
        // Not while another worker holds the lease, nor once a fresh token is there.
        ConditionExpression: '(attribute_not_exists(leaseUntil) OR leaseUntil < :now) AND (attribute_not_exists(refreshAt) OR refreshAt < :now)',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':owner': owner, ':until': untilMs, ':now': nowMs, ':ttl': Math.ceil(untilMs / 1000) + 86_400 },
      }),
    ));
  }

  async putToken(key: string, owner: string, accessToken: string, expiresAtMs: number, refreshAtMs: number): Promise<boolean> {
    return this.ifConditionHolds(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: tokenKey(key),
        UpdateExpression: 'SET accessToken = :token, expiresAt = :expires, refreshAt = :refresh, #ttl = :ttl REMOVE leaseOwner, leaseUntil',
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':token': accessToken, ':expires': expiresAtMs, ':refresh': refreshAtMs, ':owner': owner, ':ttl': Math.ceil(expiresAtMs / 1000) + 86_400 },
      }),
    ));
  }

  async dropToken(key: string, accessToken: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tokenKey(key),
          UpdateExpression: 'REMOVE accessToken, expiresAt, refreshAt',
          ConditionExpression: 'accessToken = :token',
          ExpressionAttributeValues: { ':token': accessToken },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async recordFetchError(key: ReservationKey, error: Omit<FetchErrorRecord, 'failures'>): Promise<number> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: fetchErrorKey(key),
        UpdateExpression: 'SET #data = :data, #ttl = :ttl ADD failures :one',
        ExpressionAttributeNames: { '#data': 'data', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':data': JSON.stringify(error), ':ttl': error.ttl, ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return typeof out.Attributes?.failures === 'number' ? out.Attributes.failures : 1;
  }

  async clearFetchError(key: ReservationKey): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: fetchErrorKey(key) }));
  }

  async getFetchError(key: ReservationKey): Promise<FetchErrorRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: fetchErrorKey(key), ConsistentRead: true }));
    if (!out.Item || typeof out.Item.data !== 'string') return undefined;
    return rarerItemSchemas().FetchErrorRecord.parse({ ...(JSON.parse(out.Item.data) as object), failures: out.Item.failures ?? 0 });
  }

  async putReconcileJob(job: ReconcileJob): Promise<void> {
    await this.putJob('RECONCILE', job);
  }

  async getReconcileJob(jobId: string): Promise<ReconcileJob | undefined> {
    return this.getData(jobKey('RECONCILE', jobId), rarerItemSchemas().ReconcileJob);
  }

  async scanReservations(connectionId?: string): Promise<StoredReservation[]> {
    const found = new Map<string, StoredReservation>();
    const pages = paginateScan(
      { client: this.doc },
      {
        TableName: this.tableName,
        FilterExpression: 'begins_with(pk, :prefix) AND (sk = :snapshot OR begins_with(sk, :target))',
        ExpressionAttributeValues: { ':prefix': connectionId ? `RES#${connectionId}#` : 'RES#', ':snapshot': 'SNAPSHOT', ':target': 'TARGET#' },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const pk = String(item.pk);
        const key = reservationKeyOf(pk);
        if (!key) continue;
        let entry = found.get(pk);
        if (!entry) found.set(pk, (entry = { key, states: [] }));
        if (item.sk === 'SNAPSHOT') {
          const snapshot = snapshotOf(item);
          if (snapshot) entry.snapshot = snapshot;
        } else {
          entry.states.push(targetStateOf(item));
        }
      }
    }
    return [...found.values()];
  }

  async putBackfillJob(job: BackfillJob): Promise<void> {
    await this.putJob('BACKFILL', job);
  }

  async getBackfillJob(jobId: string): Promise<BackfillJob | undefined> {
    return this.getData(jobKey('BACKFILL', jobId), rarerItemSchemas().BackfillJob);
  }

  /** An operator job's progress (backfill, reconciliation): kept two weeks to follow and look back on; no guest data. */
  private async putJob(kind: JobKind, job: { jobId: string; updatedAt: number }): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...jobKey(kind, job.jobId), schemaVersion: STORE_SCHEMA_VERSION, ttl: Math.floor(job.updatedAt / 1000) + 14 * 86_400, data: JSON.stringify(job) } }));
  }

  async appendTraces(items: { key: ReservationKey; entries: TraceEntry[]; ttl: number }[]): Promise<void> {
    // Small items written once, never a growing list (DynamoDB bills a write by the whole item's size).
    await this.batchWrite(
      items
        .filter(({ entries }) => entries.length > 0)
        .map(({ key, entries, ttl }) => ({
          PutRequest: {
            Item: {
              pk: reservationPk(key),
              sk: `${TRACE_SK_PREFIX}${String(entries[0]!.at).padStart(15, '0')}#${randomUUID().slice(0, 8)}`,
              schemaVersion: STORE_SCHEMA_VERSION,
              ttl,
              // Steps moved off a target state stay packed, as they were there.
              ...(entries.length === 1 ? { data: JSON.stringify(entries[0]) } : { steps: pack(entries) }),
            },
          },
        })),
      'trace step',
    );
  }

  /** Sends a conditional write: false when its condition did not hold (nothing was written). */
  private async ifConditionHolds(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Up to 25 requests at a time; what DynamoDB leaves unprocessed is sent again, a few times. */
  private async batchWrite(requests: ({ PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: { pk: string; sk: string } } })[], what: string): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt === 4) throw new Error(`${pending.length} ${what}(s) left unprocessed by DynamoDB`);
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }

  async parkMessages(connectionId: string, messages: { at: number; id: string; body: string }[], ttl: number): Promise<void> {
    await this.batchWrite(
      messages.map(({ at, id, body }) => ({ PutRequest: { Item: { pk: parkPk(connectionId), sk: `${PARKED_SK_PREFIX}${String(at).padStart(15, '0')}#${id}`, schemaVersion: STORE_SCHEMA_VERSION, ttl, body } } })),
      'parked message',
    );
  }

  async listParked(connectionId: string, limit: number): Promise<ParkedMessage[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': parkPk(connectionId), ':prefix': PARKED_SK_PREFIX },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => ParkedItem.parse(item)).map(({ sk, body }) => ({ id: sk, body }));
  }

  async deleteParked(connectionId: string, ids: string[]): Promise<void> {
    await this.batchWrite(ids.map((sk) => ({ DeleteRequest: { Key: { pk: parkPk(connectionId), sk } } })), 'parked message');
  }

  async holdDrain(connectionId: string, drainId: string, untilMs: number, nowMs: number): Promise<boolean> {
    return this.ifConditionHolds(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: parkPk(connectionId), sk: DRAIN_SK },
        UpdateExpression: 'SET drainId = :id, drainUntil = :until, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(drainUntil) OR drainUntil < :now OR drainId = :id',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':id': drainId, ':until': untilMs, ':now': nowMs, ':ttl': Math.ceil(untilMs / 1000) + 86_400 },
      }),
    ));
  }

  async releaseDrain(connectionId: string, drainId: string): Promise<boolean> {
    return this.ifConditionHolds(() => this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: parkPk(connectionId), sk: DRAIN_SK }, ConditionExpression: 'drainId = :id', ExpressionAttributeValues: { ':id': drainId } })));
  }

  async listTrace(key: ReservationKey): Promise<TraceEntry[]> {
    const written: TraceEntry[] = [];
    const carried: TraceEntry[] = [];
    const pages = paginateQuery({ client: this.doc }, { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': reservationPk(key) } });
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const sk = String(item.sk);
        if (sk.startsWith(TRACE_SK_PREFIX)) written.push(...(item.steps instanceof Uint8Array ? TraceSteps.parse(unpack(item.steps)) : [parseData(item, TraceEntry)]));
        else if (sk.startsWith(TARGET_SK_PREFIX)) carried.push(...(targetStateOf(item).trace ?? []));
      }
    }
    // A step written again after a state carried it (an outcome changed since, sync/trace.ts) shows once, as written.
    const stepKey = (e: TraceEntry) => `${e.at}|${e.via}|${e.deliveryId ?? ''}|${e.reason ?? ''}|${e.attempt ?? ''}`;
    const seen = new Set(written.map(stepKey));
    return [...written, ...carried.filter((e) => !seen.has(stepKey(e)))].sort((a, b) => a.at - b.at);
  }

  async recordUnreadable(key: ReservationKey, record: UnreadableRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...unreadableKey(key), schemaVersion: STORE_SCHEMA_VERSION, ttl: record.ttl, data: JSON.stringify(record) } }));
  }

  async getUnreadable(key: ReservationKey): Promise<UnreadableRecord | undefined> {
    return this.getData(unreadableKey(key), rarerItemSchemas().UnreadableRecord);
  }

  /** Optimistic lock: version 1 must be new, any later one must follow the stored version; else StaleWriteError. */
  private async putVersioned(item: Record<string, unknown>, version: number, staleMessage: string): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, version },
          ConditionExpression: version === 1 ? 'attribute_not_exists(pk)' : 'version = :previous',
          ...(version === 1 ? {} : { ExpressionAttributeValues: { ':previous': version - 1 } }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new StaleWriteError(staleMessage);
      throw error;
    }
  }

  private async getData<T extends z.ZodMiniType>(key: Record<string, string>, schema: T): Promise<z.infer<T> | undefined> {
    const item = await this.getItem(key);
    return item && parseData(item, schema);
  }

  private async getItem(key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return out.Item;
  }
}

function parseData<T extends z.ZodMiniType>(item: Record<string, unknown>, schema: T): z.infer<T> {
  if (typeof item.data !== 'string') throw new Error(`item ${String(item.pk)}/${String(item.sk)} has no data attribute`);
  return schema.parse(JSON.parse(item.data));
}

function snapshotOf(item: Record<string, unknown>): SnapshotRecord | undefined {
  if (typeof item.data !== 'string' || item.tombstone === true) return undefined;
  const schemaVersion = typeof item.schemaVersion === 'number' ? item.schemaVersion : 1;
  return SnapshotRecord.parse(upgradeSnapshot(JSON.parse(item.data), schemaVersion));
}

const TRACE_SK_PREFIX = 'TRACE#';
const TARGET_SK_PREFIX = 'TARGET#';
const TraceSteps = z.array(TraceEntry);

/**
 * A target state's item. The trace steps it carries are packed apart from `data` (deflated JSON,
 * a binary attribute): steps repeat their field names and codes, so a state's one write unit
 * holds several (sync/trace.ts) instead of one or two.
 */
function targetStateItem(key: ReservationKey, state: TargetState): Record<string, unknown> {
  const { trace, ...rest } = state;
  return { ...targetKey(key, state.target), schemaVersion: STORE_SCHEMA_VERSION, ttl: state.ttl, ...dueAttributes(state), data: JSON.stringify(withoutEmptyOptionals(rest)), ...(trace?.length ? { steps: pack(trace) } : {}) };
}

/**
 * Optional fields a state leaves out of `data` while they hold nothing, and what they read back
 * as: about 70 bytes of a state's one write unit, which then carries the message's trace step
 * more often instead of an item of its own (sync/trace.ts). Only optional fields, so the release
 * before this one reads these states as they are.
 */
const EMPTY_OPTIONALS: Readonly<Record<string, null | 0>> = { dueAt: null, behindSince: null, shadow: null, applied: null, handoff: null, appliedVersion: null, failures: 0 };

function withoutEmptyOptionals(state: Omit<TargetState, 'trace'>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(state)) {
    if (!Object.hasOwn(EMPTY_OPTIONALS, name) || EMPTY_OPTIONALS[name] !== value) kept[name] = value;
  }
  return kept;
}

function targetStateOf(item: Record<string, unknown>): TargetState {
  if (typeof item.data !== 'string') throw new Error(`item ${String(item.pk)}/${String(item.sk)} has no data attribute`);
  const data = { ...EMPTY_OPTIONALS, ...(JSON.parse(item.data) as Record<string, unknown>) };
  return TargetState.parse(item.steps instanceof Uint8Array ? { ...data, trace: unpack(item.steps) } : data);
}

function pack(steps: TraceEntry[]): Uint8Array {
  return deflateRawSync(JSON.stringify(steps));
}

function unpack(bytes: Uint8Array): unknown {
  return JSON.parse(inflateRawSync(bytes).toString('utf8'));
}

/**
 * An item's size as DynamoDB bills it: each attribute's name plus its value (strings in UTF-8,
 * binary as is, numbers about a byte per two digits plus one, one byte for a boolean or null,
 * three more per map or list and one per element). The cost bench sizes every write with it.
 */
export function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').length / 2) + 1;
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + valueBytes(v), 0);
  if (value !== null && typeof value === 'object') return 3 + itemBytes(value as Record<string, unknown>) + Object.keys(value).length;
  return 1;
}

const PARKED_SK_PREFIX = 'MSG#';
const DRAIN_SK = 'DRAIN';
const ParkedItem = z.object({ sk: z.string(), body: z.string() });

/** Every parked key: the only items ingest may write (the stack's IAM condition). */
export const PARKED_PK_PATTERN = 'PARK#*';

function parkPk(connectionId: string): string {
  return `PARK#${connectionId}`;
}

type JobKind = 'BACKFILL' | 'RECONCILE';

function jobKey(kind: JobKind, jobId: string): { pk: string; sk: string } {
  return { pk: `${kind}#${jobId}`, sk: 'JOB' };
}

function snapshotKey(key: ReservationKey): { pk: string; sk: string } {
  return { pk: reservationPk(key), sk: 'SNAPSHOT' };
}

function targetKey(key: ReservationKey, target: string): { pk: string; sk: string } {
  return { pk: reservationPk(key), sk: `TARGET#${target}` };
}

function circuitKey(target: string): { pk: string; sk: string } {
  return { pk: `CIRCUIT#${target}`, sk: 'CIRCUIT' };
}

/** The sparse index the sweep queries: only items with a due time are in it. */
export const DUE_INDEX = 'due';

function dueBucket(target: string): string {
  return `DUE#${target}`;
}

function dueAttributes(state: TargetState): { dueBucket?: string; dueAt?: number } {
  return typeof state.dueAt === 'number' ? { dueBucket: dueBucket(state.target), dueAt: state.dueAt } : {};
}

function reservationPk(key: ReservationKey): string {
  return `RES#${key.connectionId}#${key.reservationId}`;
}

/** `RES#<connection>#<reservation>` back to its key; connection ids never contain "#". */
function reservationKeyOf(pk: string): ReservationKey | undefined {
  const match = /^RES#([^#]+)#(.+)$/.exec(pk);
  return match ? { connectionId: match[1]!, reservationId: match[2]! } : undefined;
}

function fetchErrorKey(key: ReservationKey): { pk: string; sk: string } {
  return { pk: reservationPk(key), sk: 'FETCH_ERROR' };
}

function unreadableKey(key: ReservationKey): { pk: string; sk: string } {
  return { pk: reservationPk(key), sk: 'UNREADABLE' };
}

const RateLeaseItem = z.object({ sk: z.string(), until: z.number(), since: z.number(), busy: z._default(z.boolean(), true), admittedAt: z.optional(z.number()), claim: z._default(z.number(), 0), claimUntil: z._default(z.number(), 0) });

const RATE_LEASE_SK_PREFIX = 'WORKER#';

/** One item per worker under the vendor account's partition (rate-share.ts). */
function rateLeaseKey(key: string, worker: string): { pk: string; sk: string } {
  return { pk: `RATE#${key}`, sk: `${RATE_LEASE_SK_PREFIX}${worker}` };
}

function tokenKey(key: string): { pk: string; sk: string } {
  return { pk: `TOKEN#${key}`, sk: 'TOKEN' };
}

/** The table layout, for the local stack and tests (CDK defines the same keys). */
export const tableDefinition = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' as const },
    { AttributeName: 'sk', AttributeType: 'S' as const },
    { AttributeName: 'dueBucket', AttributeType: 'S' as const },
    { AttributeName: 'dueAt', AttributeType: 'N' as const },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' as const },
    { AttributeName: 'sk', KeyType: 'RANGE' as const },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: DUE_INDEX,
      KeySchema: [
        { AttributeName: 'dueBucket', KeyType: 'HASH' as const },
        { AttributeName: 'dueAt', KeyType: 'RANGE' as const },
      ],
      // Keys only: the sweep needs the reservation key, nothing of the (personal) data.
      Projection: { ProjectionType: 'KEYS_ONLY' as const },
    },
  ],
  BillingMode: 'PAY_PER_REQUEST' as const,
};
