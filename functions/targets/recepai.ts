import * as z from '../core/zod.ts';
import type { PropertyConfig } from '../core/config.ts';
import { own } from '../core/own.ts';
import { PermanentError, RetryableError, errorMessage } from '../core/errors.ts';
import { fingerprint } from '../core/hash.ts';
import { HttpClient, type HttpResponse } from '../core/http-client.ts';
import { count } from '../core/powertools.ts';
import type { Reservation } from '../core/reservation.ts';
import { noteCreateSent, targetHttpClient, type ApplyInput, type ApplyResult, type Target, type TargetDeps } from './target.ts';
import { Warnings, email, idempotencyHash, isoCountry, isoLanguage, limit, partyOf, phoneE164, splitName, stayInstants } from './normalise.ts';
import { allRouted, expectAccepted, invalidSecret } from './credential-check.ts';

/**
 * RecepAI PMS API (`https://app.recepai.ai/api/pms/v1/{slug}`): RecepAI holds *in-house*
 * guests, so a guest is checked in when the stay begins and checked out when it ends or is
 * cancelled. Before arrival and after departure the desired record is "no guest"; `dueAt`
 * names the next of those instants and the sweep re-enqueues the reservation then.
 * - `checkin` with the full record; `DUPLICATE_GUEST` (already in house) → recover through
 *   `GET /guests` and send an `update`.
 * - `update` with only the changed fields (a new room number is a room move);
 *   `GUEST_NOT_FOUND` → check in, since the stay is current.
 * - `checkout` is idempotent by design (an unknown guest answers 200 `already_checked_out`).
 * - An intent is written before each `checkin`, so an attempt that dies after sending it leaves
 *   what the end of the stay, or a cancellation, needs to check that guest out.
 * - Every POST carries an `Idempotency-Key` derived from reservation, operation and content.
 * - `ROOM_OCCUPIED` is a permanent conflict for this target (recorded with the occupying
 *   guest's pmsGuestId), `UNAUTHORIZED`/`KEY_REVOKED` permanent and counted as auth failures,
 *   validation codes permanent with the field; 429 waits out `Retry-After` (HttpClient).
 */

/** The guest as RecepAI's checkin takes it; update sends the subset that changed. */
export type RecepaiGuest = {
  pmsGuestId: string;
  lastName: string;
  firstName?: string;
  roomNumber: string;
  checkInDate: string;
  checkOutDate: string;
  phone?: string;
  email?: string;
  language?: string;
  nationality?: string;
  adults?: number;
  children?: number;
};

export type RecepaiDesired = { slug: string; guest: RecepaiGuest; warnings: string[] };

const ApiKey = z.string().check(z.regex(/^pms_(live|test)_\w+$/, 'expected a pms_live_ or pms_test_ key'));
/**
 * RecepAI keys are per hotel: `{"hotels": {"<slug>": "pms_live_..."}}`, optionally with an
 * `apiKey` for hotels not listed (a single-hotel setup needs only `{"apiKey": ...}`). Adding a
 * hotel is a change of the secret's value: no `cdk deploy`.
 */
const Credentials = z
  .object({
    apiKey: z.optional(ApiKey),
    hotels: z.optional(z.record(z.string(), z.union([ApiKey, z.pipe(z.object({ apiKey: ApiKey }), z.transform((h) => h.apiKey))]))),
  })
  .check(z.refine((c) => c.apiKey !== undefined || c.hotels !== undefined, 'expected {"hotels": {"<slug>": "pms_live_..."}} or {"apiKey": "pms_live_..."}'));
const CREDENTIALS_SHAPE = '{"hotels":{"<slug>":"pms_live_..."}} or {"apiKey":"pms_live_..."}';

/** The key for one hotel: its own, else the default one. */
function keyFor(credentials: z.infer<typeof Credentials>, slug: string): string | undefined {
  return own(credentials.hotels, slug) ?? credentials.apiKey;
}
const ErrorBody = z.looseObject({
  code: z.optional(z.string()),
  message: z.optional(z.string()),
  field: z.optional(z.string()),
  currentGuest: z.optional(z.looseObject({ pmsGuestId: z.optional(z.string()) })),
});
const CheckinReply = z.looseObject({ guestId: z.optional(z.string()) });
const ActiveGuests = z.object({
  guests: z.array(
    z.looseObject({
      pmsGuestId: z.string(),
      firstName: z.nullish(z.string()),
      lastName: z.nullish(z.string()),
      roomNumber: z.nullish(z.string()),
      checkInDate: z.nullish(z.string()),
      checkOutDate: z.nullish(z.string()),
      phone: z.nullish(z.string()),
    }),
  ),
});

/** How long past the scheduled departure a guest the PMS checked in (and never out) stays in house. */
export const LATE_CHECKOUT_GRACE_MS = 24 * 3_600_000;

export function createRecepaiTarget(deps: TargetDeps): Target<RecepaiDesired> {
  const settings = deps.config.targets.recepai;
  if (!settings) throw new Error('targets.recepai is not configured');
  const now = deps.now ?? Date.now;
  const { http } = targetHttpClient('recepai', settings, deps);
  const baseUrl = settings.baseUrl.replace(/\/+$/, '');

  const inHouseWindow = (reservation: Reservation, property: PropertyConfig) => {
    const { startsAt, endsAt } = stayInstants(reservation, property);
    if (reservation.status !== 'checked_in') return { startsAt, endsAt };
    // The front desk's own check-in is followed rather than the scheduled times: in house from
    // now, until the PMS says checked out (a status without a stay), a late check-out included.
    // A check-out the PMS never reports ends it a day after the scheduled departure.
    return { startsAt: Math.min(startsAt, now()), endsAt: endsAt + LATE_CHECKOUT_GRACE_MS };
  };
  const stays = (reservation: Reservation) => reservation.status === 'confirmed' || reservation.status === 'checked_in';

  return {
    name: 'recepai',
    pace: http,
    // The API has no delete: what erasure leaves behind (docs/erasure.md).
    keptAfterRemoval: 'RecepAI keeps checked-out guests in its history: ask RecepAI to delete them',

    /** Proves the key of every hotel a property routes to, each against its own hotel. */
    async checkCredentials(): Promise<string | void> {
      const slugs = allRouted(deps.config, (property) => property.targets.recepai?.hotelSlug ?? null).sort();
      if (slugs.length === 0) return 'no property routes to RecepAI, so there is no hotel to ask';
      const credentials = Credentials.safeParse(await deps.secrets.get(settings.credentials));
      if (!credentials.success) throw invalidSecret('RecepAI', settings.credentials, CREDENTIALS_SHAPE);
      const problems: string[] = [];
      for (const slug of slugs) {
        const key = keyFor(credentials.data, slug);
        if (!key) {
          problems.push(`hotel ${slug}: the secret has no key for it`);
          continue;
        }
        const response = await http.request({ method: 'GET', url: `${baseUrl}/${encodeURIComponent(slug)}/guests`, headers: { authorization: `Bearer ${key}` } });
        try {
          expectAccepted('RecepAI', settings.credentials, response, `listing the guests of hotel ${slug}`);
        } catch (error) {
          problems.push(`hotel ${slug}: ${errorMessage(error)}`);
        }
      }
      if (problems.length > 0) throw new Error(problems.join('; '));
      return undefined;
    },

    desired(reservation: Reservation, property: PropertyConfig): RecepaiDesired | null {
      const route = property.targets.recepai;
      if (!route || !stays(reservation)) return null;
      const { startsAt, endsAt } = inHouseWindow(reservation, property);
      if (now() < startsAt || now() >= endsAt) return null;
      const warnings = new Warnings();
      const { first, last } = splitName(reservation.guest);
      const guest: RecepaiGuest = {
        pmsGuestId: pmsGuestIdOf(reservation),
        // lastName is required: a reservation without a name still gets a recognisable guest.
        lastName: limit(last ?? `Guest ${reservation.reservationId}`, 100, 'lastName', warnings)!,
        roomNumber: (reservation.unitId && own(route.rooms, reservation.unitId)) || route.roomNumber,
        checkInDate: reservation.stay.checkInDate,
        checkOutDate: reservation.stay.checkOutDate,
      };
      const firstName = limit(first, 100, 'firstName', warnings);
      if (firstName) guest.firstName = firstName;
      const phone = phoneE164(reservation.guest, warnings);
      if (phone) guest.phone = phone;
      const mail = email(reservation.guest, warnings);
      if (mail) guest.email = mail;
      const language = isoLanguage(reservation.guest.language, warnings);
      if (language) guest.language = language;
      const nationality = isoCountry(reservation.guest.country, warnings, 'nationality');
      if (nationality) guest.nationality = nationality;
      const party = partyOf(reservation);
      if (party.adults !== null) {
        if (party.adults >= 1 && party.adults <= 20) guest.adults = party.adults;
        else warnings.drop('adults', 'out_of_range_1_20');
      }
      // RecepAI has no infants field: infants count among the children.
      const children = party.children === null && party.infants === null ? null : (party.children ?? 0) + (party.infants ?? 0);
      if (children !== null) {
        if (children <= 20) guest.children = children;
        else warnings.drop('children', 'out_of_range_0_20');
      }
      return { slug: route.hotelSlug, guest, warnings: warnings.list };
    },

    dueAt(reservation: Reservation, property: PropertyConfig): number | null {
      if (!property.targets.recepai || !stays(reservation)) return null;
      const { startsAt, endsAt } = inHouseWindow(reservation, property);
      if (now() < startsAt) return startsAt;
      return now() < endsAt ? endsAt : null;
    },

    reconciliation: {
      idOf: (ids) => ids.pmsGuestId,
      // RecepAI holds only in-house guests: the list is today's, whatever the window.
      async list(property) {
        const slug = property.targets.recepai?.hotelSlug;
        if (!slug) return [];
        const guests = await new RecepaiApi(baseUrl, http, deps, undefined).listActive(slug);
        return guests.map((guest) => {
          const [connectionId, ...rest] = guest.pmsGuestId.split(':');
          const reservationId = rest.join(':');
          return {
            id: guest.pmsGuestId,
            active: true,
            ...(connectionId && reservationId ? { ours: { connectionId, reservationId } } : {}),
            // Only what the list shows can be compared (email and language are not in it).
            differs: (desired: RecepaiDesired) =>
              (Object.keys(desired.guest) as (keyof RecepaiGuest)[]).filter((field) => field !== 'pmsGuestId' && field in guest && (guest as Record<string, unknown>)[field] !== desired.guest[field]),
          };
        });
      },
      // Updates send only what changed since `applied`: forget it, so the repair checks in or sends all.
      repairPatch: () => ({ applied: null }),
    },

    async apply(input: ApplyInput<RecepaiDesired>): Promise<ApplyResult> {
      const { desired, state, reservation } = input;
      const api = new RecepaiApi(baseUrl, http, deps, reservation, state.targetIds.epoch);
      const applied = state.applied as RecepaiGuest | null | undefined;
      const checkedInAt = applied ? state.targetIds.slug : undefined;

      if (checkedInAt && (desired === null || desired.slug !== checkedInAt)) {
        // The stay ended or was cancelled (or the property moved to another hotel): check out.
        await api.checkout(checkedInAt, applied!.pmsGuestId);
        if (desired === null) {
          return { action: 'checked_out', patch: { status: 'absent', targetIds: {}, applied: null, appliedFingerprint: input.fingerprint, intent: null, warnings: [] } };
        }
      }
      if (desired === null) {
        // A check-in sent by an attempt that died before recording it (its intent) may have landed:
        // check that guest out (RecepAI answers `already_checked_out` when it is not in house).
        const slug = !checkedInAt && state.intent ? IntentSlug.safeParse(state.intent.desired).data?.slug : undefined;
        if (slug) await api.checkout(slug, pmsGuestIdOf(reservation));
        return { action: slug ? 'checked_out' : 'unchanged', patch: { status: 'absent', appliedFingerprint: input.fingerprint, applied: null, intent: null, warnings: [] } };
      }

      const done = (action: string, newGuestId?: string): ApplyResult => {
        const guestId = newGuestId ?? state.targetIds.guestId;
        const targetIds = { slug: desired.slug, pmsGuestId: desired.guest.pmsGuestId, ...(guestId ? { guestId } : {}) };
        return { action, patch: { status: 'synced', targetIds, applied: desired.guest, appliedFingerprint: input.fingerprint, warnings: desired.warnings, intent: null } };
      };

      if (applied && checkedInAt === desired.slug) {
        const changes = changedFields(applied, desired.guest);
        if (Object.keys(changes).length === 0) return done('unchanged');
        const updated = await api.update(desired.slug, { pmsGuestId: desired.guest.pmsGuestId, ...changes });
        if (updated) return done('updated');
        // Checked out behind our back (or never really in): the stay is current, so check in.
      }

      // The end of the stay, or a cancellation, after an attempt that died here checks out the
      // guest that may be in house (a repeated check-in is answered DUPLICATE_GUEST).
      await noteCreateSent(input, now(), { slug: desired.slug });
      const checkin = await api.checkin(desired.slug, desired.guest);
      if (checkin.kind === 'created') return done('checked_in', checkin.guestId);
      // Already in house (a lost response, a lost state): bring it in line with what RecepAI holds.
      const current = await api.findActive(desired.slug, desired.guest.pmsGuestId);
      const changes = changedFields(current ?? {}, desired.guest);
      if (Object.keys(changes).length > 0) {
        const updated = await api.update(desired.slug, { pmsGuestId: desired.guest.pmsGuestId, ...changes });
        if (!updated) throw new PermanentError('RecepAI reported the guest as both active and not found', 'GUEST_NOT_FOUND', 404);
      }
      return done('adopted');
    },
  };
}

/** What a check-in's intent keeps: the hotel it went to. */
const IntentSlug = z.object({ slug: z.string().check(z.minLength(1)) });

/** Unique among a hotel's active guests; the connection keeps two PMSs' ids apart. */
function pmsGuestIdOf(reservation: Reservation): string {
  const id = `${reservation.connectionId}:${reservation.reservationId}`;
  return id.length <= 255 ? id : `${reservation.connectionId.slice(0, 64)}:${fingerprint(id)}`;
}

/** Fields of `wanted` that differ from `current` (pmsGuestId aside). */
function changedFields(current: Partial<RecepaiGuest> | Record<string, unknown>, wanted: RecepaiGuest): Partial<RecepaiGuest> {
  const changes: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(wanted)) {
    if (field !== 'pmsGuestId' && (current as Record<string, unknown>)[field] !== value) changes[field] = value;
  }
  return changes as Partial<RecepaiGuest>;
}

class RecepaiApi {
  constructor(
    private readonly baseUrl: string,
    private readonly http: HttpClient,
    private readonly deps: TargetDeps,
    /** The reservation writes are about (their idempotency keys); undefined for reads only. */
    private readonly reservation: Reservation | undefined,
    /** Set by a repair: the same write as before must reach RecepAI again, not its answer cache. */
    private readonly keyEpoch?: string,
  ) {}

  /** The hotel's in-house guests (RecepAI lists only those). */
  async listActive(slug: string): Promise<z.infer<typeof ActiveGuests>['guests']> {
    const response = await this.call(slug, { method: 'GET', url: `${this.baseUrl}/${encodeURIComponent(slug)}/guests` });
    return ActiveGuests.parse(this.expectOk(response, 'list active guests')).guests;
  }

  async checkin(slug: string, guest: RecepaiGuest): Promise<{ kind: 'created'; guestId?: string } | { kind: 'duplicate' }> {
    const response = await this.post(slug, 'checkin', guest);
    if (response.status === 409 && errorCode(response) === 'DUPLICATE_GUEST') return { kind: 'duplicate' };
    const body = CheckinReply.parse(this.expectOk(response, 'check in the guest'));
    return { kind: 'created', ...(body.guestId ? { guestId: body.guestId } : {}) };
  }

  /** False when RecepAI has no active guest with that pmsGuestId. */
  async update(slug: string, changes: Partial<RecepaiGuest> & { pmsGuestId: string }): Promise<boolean> {
    const response = await this.post(slug, 'update', changes);
    if (response.status === 404 && errorCode(response) === 'GUEST_NOT_FOUND') return false;
    this.expectOk(response, 'update the guest');
    return true;
  }

  async checkout(slug: string, pmsGuestId: string): Promise<void> {
    // 200 `already_checked_out` for a guest that is not in house: nothing to tell apart.
    this.expectOk(await this.post(slug, 'checkout', { pmsGuestId }), 'check out the guest');
  }

  async findActive(slug: string, pmsGuestId: string): Promise<Partial<RecepaiGuest> | undefined> {
    const response = await this.call(slug, { method: 'GET', url: `${this.baseUrl}/${encodeURIComponent(slug)}/guests` });
    const list = ActiveGuests.parse(this.expectOk(response, 'list active guests'));
    const found = list.guests.find((g) => g.pmsGuestId === pmsGuestId);
    if (!found) return undefined;
    return Object.fromEntries(Object.entries(found).filter(([, v]) => v !== null && v !== undefined)) as Partial<RecepaiGuest>;
  }

  private post(slug: string, operation: string, body: Record<string, unknown>): Promise<HttpResponse> {
    if (!this.reservation) throw new Error('recepai: a write needs the reservation it is about');
    const key = `${operation}_${idempotencyHash(this.reservation, 'recepai', `${slug}/${operation}${this.keyEpoch ? `#${this.keyEpoch}` : ''}`, fingerprint(body)).slice(0, 48)}`;
    return this.call(slug, {
      method: 'POST',
      url: `${this.baseUrl}/${encodeURIComponent(slug)}/guests/${operation}`,
      body,
      headers: { 'idempotency-key': key },
      // The same key makes a repeat harmless: RecepAI answers it from its cache.
      idempotent: true,
    });
  }

  private async call(slug: string, request: Parameters<HttpClient['request']>[0]): Promise<HttpResponse> {
    const ref = this.deps.config.targets.recepai!.credentials;
    const credentials = Credentials.safeParse(await this.deps.secrets.get(ref));
    if (!credentials.success) throw new PermanentError(`the RecepAI credentials secret must be ${CREDENTIALS_SHAPE}`, 'invalid_credentials_secret');
    const key = keyFor(credentials.data, slug);
    if (!key) {
      // Ours to fix by adding the hotel's key to the secret: retried (then pending), so it heals once added.
      count('TargetAuthFailure', { target: 'recepai' });
      throw new RetryableError(`the RecepAI secret "${ref}" has no key for hotel ${slug}`, undefined, 'missing_hotel_key');
    }
    return this.http.request({ ...request, headers: { ...request.headers, authorization: `Bearer ${key}` } });
  }

  private expectOk(response: HttpResponse, what: string): unknown {
    if (response.status >= 200 && response.status < 300) return response.json;
    const body = ErrorBody.safeParse(response.json ?? {});
    const error = body.success ? body.data : {};
    const code = error.code ?? `http_${response.status}`;
    if (response.status === 401) {
      count('TargetAuthFailure', { target: 'recepai' });
      throw new PermanentError(`RecepAI refused the API key (${code}); a new key must be configured`, code, 401);
    }
    if (code === 'ROOM_OCCUPIED') {
      const occupant = error.currentGuest?.pmsGuestId ?? 'unknown';
      throw new PermanentError(`RecepAI could not ${what}: the room is occupied by pmsGuestId ${occupant}`, code, response.status);
    }
    const field = error.field ? ` (field ${error.field})` : '';
    throw new PermanentError(`RecepAI refused to ${what}: ${response.status} ${code}${field}`, code, response.status);
  }
}

function errorCode(response: HttpResponse): string | undefined {
  const body = ErrorBody.safeParse(response.json ?? {});
  return body.success ? body.data.code : undefined;
}
