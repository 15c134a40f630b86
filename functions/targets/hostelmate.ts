import * as z from '../core/zod.ts';
import type { PropertyConfig } from '../core/config.ts';
import { own } from '../core/own.ts';
import { PermanentError, RetryableError, errorMessage } from '../core/errors.ts';
import { fingerprint, sha256Hex } from '../core/hash.ts';
import { HttpClient, type HttpRequest, type HttpResponse } from '../core/http-client.ts';
import { count, logger } from '../core/powertools.ts';
import { hasGuestStay, type Reservation } from '../core/reservation.ts';
import { noteCreateSent, targetHttpClient, type ApplyInput, type ApplyResult, type Target, type TargetDeps } from './target.ts';
import { Warnings, email, idempotencyHash, isoCountry, nightsOf, phoneE164, sameGuestName, splitName, uuidV4FromHash } from './normalise.ts';
import { allRouted, expectAccepted, invalidSecret } from './credential-check.ts';
import { nestedErrorCode, nestedErrorRefusal } from './nested-error.ts';

/**
 * HostelMate client API (`https://api.hostelmate.co/api/v1/client`), `X-API-Key`, an
 * `Idempotency-Key` (a UUID) on every POST and PATCH, 120 requests/min per key and IP.
 * - A booking per reservation, created with a deterministic `booking.id` (UUID v4 shape from
 *   a hash of the reservation key), which also creates the guest. A repeated create is
 *   answered from the idempotency cache or refused as a duplicate id: never a second booking.
 *   An intent is written before the create, so a cancellation after an attempt died with the
 *   create sent cancels the booking that may have landed.
 * - `email_conflict` (the email belongs to an existing guest) → that guest is adopted only when
 *   it is the same person (the same full name, `sameGuestName`); another person with the same
 *   email (a family, a booking agent) is never modified: the target fails permanently with
 *   `email_conflict_other_guest`, counted as `GuestConflict` and alarmed.
 * - Guest changes: `PATCH /guests/{guestId}`, where guestId is found by email search (it is
 *   not the booking's `guest.id`); dates and room: `PATCH /bookings/{id}` (dates replace the
 *   whole array); cancellation: `POST /bookings/{id}/update` with status `cancelled`.
 * - 422s are permanent, with the field.
 */

export type HostelmateGuest = { first_name: string; last_name: string; email: string; phone?: string; country_code?: string };
export type HostelmateDesired = {
  bookingId: string;
  room: string;
  dates: { date: string; amount: number }[];
  guest: HostelmateGuest | null;
  warnings: string[];
};

/**
 * What HostelMate last accepted, as its state keeps it: the room, the nights by their fingerprint
 * and the guest (guest fields are sent only when they change). The nights are one entry each, so
 * kept whole they would take a long stay's state past one write unit.
 */
type HostelmateApplied = { room: string; nights: string; guest: HostelmateGuest | null };

function appliedOf(desired: HostelmateDesired): HostelmateApplied {
  return { room: desired.room, nights: fingerprint(desired.dates), guest: desired.guest };
}

/** States written before `HostelmateApplied` kept the whole desired record, nights included. */
function appliedNights(applied: HostelmateApplied | HostelmateDesired): string {
  return 'nights' in applied ? applied.nights : fingerprint(applied.dates);
}

/**
 * HostelMate issues one master key per property: `{"properties": {"<account>": "hm_live_..."}}`
 * (the route's `account`), optionally with an `apiKey` for routes that name none. Adding a
 * hostel is a change of the secret's value: no `cdk deploy`.
 */
const Credentials = z
  .object({ apiKey: z.optional(z.string().check(z.minLength(1))), properties: z.optional(z.record(z.string(), z.string().check(z.minLength(1)))) })
  .check(z.refine((c) => c.apiKey !== undefined || c.properties !== undefined, 'expected {"apiKey": ...} or {"properties": {...}}'));
const CREDENTIALS_SHAPE = '{"properties":{"<account>":"hm_live_..."}} or {"apiKey":"hm_live_..."}';

function keyFor(credentials: z.infer<typeof Credentials>, account: string | undefined): string | undefined {
  return (account !== undefined ? own(credentials.properties, account) : undefined) ?? credentials.apiKey;
}
const GuestSearch = z.looseObject({
  guests: z.array(z.looseObject({ guestId: z.string(), email: z.nullish(z.string()), first_name: z.nullish(z.string()), last_name: z.nullish(z.string()) })),
});
type FoundGuest = z.infer<typeof GuestSearch>['guests'][number];
/** What guest-sync reads of a booking answer (undocumented shape: read leniently). */
const BookingAnswer = z.looseObject({ booking: z.looseObject({ guest: z.looseObject({ email: z.string().check(z.minLength(1)) }) }) });
const BookingList = z.looseObject({ results: z.array(z.looseObject({ id: z.string() })) });
const ListedBooking = z.looseObject({
  id: z.string(),
  status: z.nullish(z.string()),
  guest: z.nullish(z.looseObject({ first_name: z.nullish(z.string()), last_name: z.nullish(z.string()), email: z.nullish(z.string()), phone: z.nullish(z.string()) })),
  stay_dates: z._default(z.array(z.looseObject({ date: z.string(), amount: z.number(), room: z.nullish(z.string()) })), []),
});
const BookingPage = z.looseObject({ results: z.array(ListedBooking), total_pages: z.nullish(z.number()) });
/** Every list is bounded: at most this many pages of 100. */
const MAX_LIST_PAGES = 50;

export function createHostelmateTarget(deps: TargetDeps): Target<HostelmateDesired> {
  const settings = deps.config.targets.hostelmate;
  if (!settings) throw new Error('targets.hostelmate is not configured');
  const { http } = targetHttpClient('hostelmate', settings, deps);
  const now = deps.now ?? Date.now;
  const baseUrl = `${settings.baseUrl.replace(/\/+$/, '')}/client`;

  return {
    name: 'hostelmate',
    pace: http,
    // The API has no delete: what erasure leaves behind (docs/erasure.md).
    keptAfterRemoval: 'HostelMate keeps the cancelled booking and its guest record: delete them in HostelMate',

    /** Proves the key of every HostelMate property a route names (the default key for routes that name none). */
    async checkCredentials(): Promise<void> {
      const credentials = Credentials.safeParse(await deps.secrets.get(settings.credentials));
      if (!credentials.success) throw invalidSecret('HostelMate', settings.credentials, CREDENTIALS_SHAPE);
      // A route without an account uses the default key: `undefined` stands for it.
      const accounts = allRouted(deps.config, (property) => (property.targets.hostelmate ? property.targets.hostelmate.account : null));
      const problems: string[] = [];
      for (const account of accounts) {
        const label = account ?? 'default key';
        const key = keyFor(credentials.data, account);
        if (!key) {
          problems.push(`${label}: the secret has no key for it`);
          continue;
        }
        // A guest search that finds nobody (200 with none, or 404) still proves the key.
        const url = `${baseUrl}/guests?${new URLSearchParams({ email: 'credential-check@guest-sync.invalid', limit: '1' })}`;
        const response = await http.request({ method: 'GET', url, headers: { 'x-api-key': key } });
        try {
          expectAccepted('HostelMate', settings.credentials, response, 'a guest search', [404]);
        } catch (error) {
          problems.push(accounts.length > 1 || account !== undefined ? `${label}: ${errorMessage(error)}` : errorMessage(error));
        }
      }
      if (problems.length > 0) throw new Error(problems.join('; '));
    },

    desired(reservation: Reservation, property: PropertyConfig): HostelmateDesired | null {
      const route = property.targets.hostelmate;
      if (!route || !hasGuestStay(reservation.status)) return null;
      const warnings = new Warnings();
      const { first, last } = splitName(reservation.guest);
      const mail = email(reservation.guest, warnings);
      let guest: HostelmateGuest | null = null;
      if (mail) {
        guest = { first_name: first ?? last ?? 'Guest', last_name: last ?? reservation.reservationId, email: mail };
        const phone = phoneE164(reservation.guest, warnings);
        if (phone) guest.phone = phone;
        const country = isoCountry(reservation.guest.country, warnings, 'country_code');
        if (country) guest.country_code = country;
      }
      return {
        bookingId: bookingIdOf(reservation),
        room: (reservation.unitId && own(route.rooms, reservation.unitId)) || route.roomId,
        dates: nightsOf(reservation.stay.checkInDate, reservation.stay.checkOutDate).map((date) => ({ date, amount: route.nightlyAmount.fixed })),
        guest,
        warnings: warnings.list,
      };
    },

    reconciliation: {
      idOf: (ids) => ids.bookingId,
      async list(property, window) {
        const route = property.targets.hostelmate;
        if (!route) return [];
        const rooms = new Set([route.roomId, ...Object.values(route.rooms ?? {})]);
        const bookings = await new HostelmateApi(baseUrl, settings.credentials, http, deps, undefined, route.account).listBookings(window);
        return bookings
          .filter((b) => b.stay_dates.some((d) => rooms.has(d.room ?? '')))
          .map((b) => ({
            id: b.id,
            active: b.status !== 'cancelled',
            // Booking ids are derived from the reservation: whose it is cannot be read back.
            differs: (desired: HostelmateDesired) => {
              const fields: string[] = [];
              const dates = b.stay_dates.map((d) => ({ date: d.date, amount: d.amount }));
              if (fingerprint(dates) !== fingerprint(desired.dates)) fields.push('dates');
              if (b.stay_dates[0]?.room !== desired.room) fields.push('room');
              for (const field of ['first_name', 'last_name', 'email', 'phone'] as const) {
                const want = desired.guest?.[field];
                if (want !== undefined && (b.guest?.[field] ?? undefined) !== want) fields.push(`guest.${field}`);
              }
              return fields;
            },
          }));
      },
      // Forget `applied`: the sync then finds the booking (its id is ours), confirms it and sends all again.
      repairPatch: () => ({ applied: null }),
    },

    async apply(input: ApplyInput<HostelmateDesired>): Promise<ApplyResult> {
      const { desired, state, reservation } = input;
      const api = new HostelmateApi(baseUrl, settings.credentials, http, deps, reservation, input.property.targets.hostelmate?.account, state.targetIds.epoch);
      const bookingId = state.targetIds.bookingId;
      const applied = state.applied as HostelmateApplied | HostelmateDesired | null | undefined;
      const live = state.status !== 'absent';

      if (desired === null) {
        let cancelled = false;
        if (bookingId && live) cancelled = await api.setStatus(bookingId, 'cancelled');
        // A create that failed, or whose attempt died after sending it (its intent), may still have
        // landed: its id is ours, so cancel by it. HostelMate answers 404 when there is nothing to cancel.
        else if (!bookingId && (state.intent || state.lastError !== null || (state.failures ?? 0) > 0)) cancelled = await api.setStatus(bookingIdOf(reservation), 'cancelled');
        return { action: cancelled ? 'cancelled' : 'unchanged', patch: { status: 'absent', appliedFingerprint: input.fingerprint, intent: null, warnings: [] } };
      }

      let guestId = state.targetIds.guestId;
      const warnings = [...desired.warnings];
      let action: string;
      if (bookingId && applied) {
        if (!live) await api.setStatus(bookingId, 'confirmed');
        if (applied.room !== desired.room || appliedNights(applied) !== fingerprint(desired.dates)) {
          await api.patchBooking(bookingId, { booking: { dates: desired.dates }, ...(applied.room !== desired.room ? { room: desired.room } : {}) });
        }
        const changes = desired.guest ? changedGuestFields(applied.guest, desired.guest) : {};
        if (Object.keys(changes).length > 0) {
          guestId ??= await api.findGuestId(applied.guest?.email ?? desired.guest!.email);
          const outcome = await api.patchGuest(guestId, changes, desired.guest!);
          guestId = outcome.guestId;
          if (outcome.adopted) warnings.push('email_conflict:adopted_existing_guest');
        }
        action = live ? 'updated' : 'reinstated';
      } else {
        if (!desired.guest) {
          throw new PermanentError('HostelMate needs the guest\'s email to create the booking (and its guest); the reservation has none', 'missing_field', 422);
        }
        // A cancellation after an attempt that died here cancels the booking that may have landed.
        await noteCreateSent(input, now());
        const created = await api.createBooking(desired);
        action = created.kind;
        guestId = created.guestId;
        if (created.kind === 'adopted_guest') warnings.push('email_conflict:adopted_existing_guest');
        if (created.kind === 'already_exists') {
          // Created by an attempt whose answer (and state) was lost, perhaps for an older version
          // of the reservation: the booking id is derived from the reservation, so the booking
          // and the guest it was made for are ours. Make both match.
          const booked = await api.patchBooking(desired.bookingId, { booking: { dates: desired.dates }, room: desired.room });
          // It may have been cancelled since (by hand, or for an older version): the stay is on.
          await api.setStatus(desired.bookingId, 'confirmed');
          guestId = (await api.alignGuest(created.guestId, booked.guestEmail, desired.guest)) ?? guestId;
        }
      }
      return {
        action,
        patch: {
          status: 'synced',
          intent: null,
          targetIds: { bookingId: desired.bookingId, ...(guestId ? { guestId } : {}) },
          applied: appliedOf(desired),
          appliedFingerprint: input.fingerprint,
          warnings,
        },
      };
    },
  };
}

/** UUID v4 shape derived from the reservation key, so every attempt names the same booking. */
export function bookingIdOf(reservation: Reservation): string {
  return uuidV4FromHash(sha256Hex(`hostelmate-booking\n${reservation.connectionId}\n${reservation.reservationId}`));
}

function changedGuestFields(current: HostelmateGuest | null | undefined, wanted: HostelmateGuest): Partial<HostelmateGuest> {
  const changes: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(wanted)) {
    if ((current as Record<string, unknown> | null | undefined)?.[field] !== value) changes[field] = value;
  }
  return changes as Partial<HostelmateGuest>;
}

class HostelmateApi {
  constructor(
    private readonly baseUrl: string,
    private readonly credentialsRef: string,
    private readonly http: HttpClient,
    private readonly deps: TargetDeps,
    /** The reservation writes are about (their idempotency keys); undefined for reads only. */
    private readonly reservation: Reservation | undefined,
    private readonly account: string | undefined,
    /** Set by a repair: the same write as before must reach HostelMate again, not its answer cache. */
    private readonly keyEpoch?: string,
  ) {}

  /** The bookings with a night in [from, to], all pages (bounded). */
  async listBookings(window: { from: string; to: string }): Promise<z.infer<typeof ListedBooking>[]> {
    const all: z.infer<typeof ListedBooking>[] = [];
    for (let page = 1; page <= MAX_LIST_PAGES; page++) {
      const query = new URLSearchParams({ start_date: window.from, end_date: window.to, page: String(page), limit: '100' });
      const list = BookingPage.parse(this.expectOk(await this.call({ method: 'GET', url: `${this.baseUrl}/bookings?${query}` }), 'list bookings'));
      all.push(...list.results);
      if (list.results.length < 100 || (list.total_pages != null && page >= list.total_pages)) return all;
    }
    throw new PermanentError(`HostelMate lists more than ${MAX_LIST_PAGES * 100} bookings; reconciliation stopped there`, 'list_incomplete');
  }

  async createBooking(desired: HostelmateDesired): Promise<{ kind: 'created' | 'already_exists' | 'adopted_guest'; guestId?: string }> {
    const body = { booking: { id: desired.bookingId, dates: desired.dates }, room: desired.room, guest: desired.guest! };
    const response = await this.write('POST', '/bookings', 'create-booking', body);
    if (response.status === 201 || response.status === 200) return { kind: 'created' };
    const code = nestedErrorCode(response);
    if (response.status === 409 && code === 'booking_exists') return { kind: 'already_exists' };
    if (response.status === 409 && code === 'email_conflict') {
      // The email belongs to a guest HostelMate already knows. Our own lost create may have made
      // that guest with our booking (a later version may have renamed the guest since): ours.
      const holder = await this.findGuest(desired.guest!.email);
      if (await this.holdsBooking(holder.guestId, desired.bookingId)) return { kind: 'already_exists', guestId: holder.guestId };
      // Otherwise book for that guest only if it is provably the same person.
      const guestId = this.samePersonOrRefuse(holder, desired.guest!);
      const again = await this.write('POST', '/bookings', 'create-booking', { ...body, guest: { id: guestId } });
      if (again.status === 409 && nestedErrorCode(again) === 'booking_exists') return { kind: 'already_exists', guestId };
      this.expectOk(again, 'create the booking');
      return { kind: 'adopted_guest', guestId };
    }
    this.expectOk(response, 'create the booking');
    return { kind: 'created' };
  }

  /** Changes the booking; the email of its guest when the answer shows it. */
  async patchBooking(bookingId: string, body: Record<string, unknown>): Promise<{ guestEmail?: string }> {
    const json = this.expectOk(await this.write('PATCH', `/bookings/${enc(bookingId)}`, 'patch-booking', body), 'change the booking');
    const email = BookingAnswer.safeParse(json).data?.booking.guest.email;
    return email ? { guestEmail: email } : {};
  }

  /**
   * Brings the guest of our own booking (made by an attempt whose answer was lost) to the
   * wanted record. The guest is found by id, else by the email the booking shows, else by the
   * wanted email; none found: nothing to align (the booking itself was made for it).
   */
  async alignGuest(knownId: string | undefined, bookingEmail: string | undefined, wanted: HostelmateGuest): Promise<string | undefined> {
    let current: FoundGuest | undefined;
    for (const email of [bookingEmail, wanted.email]) {
      if (current || !email) continue;
      current = await this.findGuest(email).catch((error: unknown) => {
        if (error instanceof PermanentError && error.code === 'guest_not_found') return undefined;
        throw error;
      });
    }
    const guestId = knownId ?? current?.guestId;
    if (!guestId) return undefined;
    const changes = changedGuestFields(current ? { first_name: current.first_name ?? '', last_name: current.last_name ?? '', email: current.email ?? '' } : null, wanted);
    if (Object.keys(changes).length === 0) return guestId;
    return (await this.patchGuest(guestId, changes, wanted)).guestId;
  }

  /** Whether a guest already holds our booking: then it was made by our own lost create. */
  private async holdsBooking(guestId: string, bookingId: string): Promise<boolean> {
    const response = await this.call({ method: 'GET', url: `${this.baseUrl}/bookings?${new URLSearchParams({ guest_id: guestId, limit: '100' })}` });
    const list = BookingList.safeParse(this.expectOk(response, 'list the guest\'s bookings'));
    return list.success && list.data.results.some((b) => b.id === bookingId);
  }

  /** False when there was no booking to cancel. */
  async setStatus(bookingId: string, status: 'cancelled' | 'confirmed'): Promise<boolean> {
    const response = await this.write('POST', `/bookings/${enc(bookingId)}/update`, 'update-status', { status });
    if (response.status === 404 && status === 'cancelled') return false; // nothing left to cancel
    this.expectOk(response, `set the booking ${status}`);
    return true;
  }

  /** Patches the guest; an email that belongs to another guest makes that guest ours instead. */
  async patchGuest(guestId: string, changes: Partial<HostelmateGuest>, wanted: HostelmateGuest): Promise<{ guestId: string; adopted: boolean }> {
    const newEmail = wanted.email;
    let response = await this.write('PATCH', `/guests/${enc(guestId)}`, 'patch-guest', { guest: changes });
    if (response.status === 404 && nestedErrorCode(response) === 'guest_not_found') {
      // Our remembered id is stale: look the guest up again by email.
      guestId = await this.findGuestId(newEmail);
      response = await this.write('PATCH', `/guests/${enc(guestId)}`, 'patch-guest', { guest: changes });
    }
    if (response.status === 409 && nestedErrorCode(response) === 'email_conflict') {
      const existing = this.samePersonOrRefuse(await this.findGuest(newEmail), wanted);
      const { email: _email, ...rest } = changes;
      if (Object.keys(rest).length > 0) this.expectOk(await this.write('PATCH', `/guests/${enc(existing)}`, 'patch-guest', { guest: rest }), 'update the guest');
      logger.info('hostelmate: adopted the existing guest that holds the new email');
      return { guestId: existing, adopted: true };
    }
    this.expectOk(response, 'update the guest');
    return { guestId, adopted: false };
  }

  async findGuestId(guestEmail: string): Promise<string> {
    return (await this.findGuest(guestEmail)).guestId;
  }

  private async findGuest(guestEmail: string): Promise<FoundGuest> {
    const response = await this.call({ method: 'GET', url: `${this.baseUrl}/guests?${new URLSearchParams({ email: guestEmail, limit: '1' })}` });
    if (response.status === 404) throw new PermanentError('HostelMate has no guest with the booking\'s email', 'guest_not_found', 404);
    const found = GuestSearch.parse(this.expectOk(response, 'search guests')).guests[0];
    if (!found) throw new PermanentError('HostelMate has no guest with the booking\'s email', 'guest_not_found', 404);
    return found;
  }

  /** The existing guest's id when it is provably ours (the same full name); otherwise a permanent refusal that touches nothing. */
  private samePersonOrRefuse(existing: FoundGuest, ours: { first_name?: string | undefined; last_name?: string | undefined }): string {
    if (sameGuestName({ first: existing.first_name, last: existing.last_name }, { first: ours.first_name, last: ours.last_name })) return existing.guestId;
    count('GuestConflict', { target: 'hostelmate' });
    throw new PermanentError('HostelMate already has another guest (a different name) with this email; that guest was left untouched', 'email_conflict_other_guest', 409);
  }

  private write(method: 'POST' | 'PATCH', path: string, operation: string, body: Record<string, unknown>): Promise<HttpResponse> {
    if (!this.reservation) throw new Error('hostelmate: a write needs the reservation it is about');
    const key = uuidV4FromHash(idempotencyHash(this.reservation, 'hostelmate', `${operation} ${path}${this.keyEpoch ? `#${this.keyEpoch}` : ''}`, fingerprint(body)));
    return this.call({ method, url: `${this.baseUrl}${path}`, body, headers: { 'idempotency-key': key }, idempotent: true });
  }

  private async call(request: HttpRequest): Promise<HttpResponse> {
    const credentials = Credentials.safeParse(await this.deps.secrets.get(this.credentialsRef));
    if (!credentials.success) throw new PermanentError(`the HostelMate credentials secret must be ${CREDENTIALS_SHAPE}`, 'invalid_credentials_secret');
    const key = keyFor(credentials.data, this.account);
    if (!key) {
      // Ours to fix by adding the property's key to the secret: retried (then pending), so it heals once added.
      count('TargetAuthFailure', { target: 'hostelmate' });
      throw new RetryableError(`the HostelMate secret "${this.credentialsRef}" has no key for property ${this.account ?? '(default)'}`, undefined, 'missing_property_key');
    }
    return this.http.request({ ...request, headers: { ...request.headers, 'x-api-key': key } });
  }

  private expectOk(response: HttpResponse, what: string): unknown {
    if (response.status >= 200 && response.status < 300) return response.json;
    throw nestedErrorRefusal(response, { name: 'hostelmate', label: 'HostelMate', credential: 'API key' }, what);
  }
}

function enc(value: string): string {
  return encodeURIComponent(value);
}
