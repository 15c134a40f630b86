import * as z from '../core/zod.ts';
import type { PropertyConfig } from '../core/config.ts';
import { CREATE_INTENT_LEASE_MS } from '../core/budget.ts';
import { PermanentError, RetryableError } from '../core/errors.ts';
import { HttpClient, type HttpRequest, type HttpResponse } from '../core/http-client.ts';
import { hasGuestStay, type Reservation } from '../core/reservation.ts';
import { targetHttpClient, type ApplyInput, type ApplyResult, type Target, type TargetDeps } from './target.ts';
import { Warnings, email, partyOf, phoneE164, splitName } from './normalise.ts';
import { expectAccepted, firstRouted, invalidSecret } from './credential-check.ts';
import { nestedErrorRefusal } from './nested-error.ts';

/**
 * Kasify (`https://api.kasify.com/v1`): one booking per reservation on the property, with
 * the guest's fields on the booking. Bearer personal access token, 100 requests/min.
 * - Ours are marked `channel` = "guest-sync" and `channel_id` = connection:reservation.
 * - Create has no idempotency key, so before any POST the property's bookings on our channel
 *   around the stay are listed and matched on `channel_id` (a lost response or lost state
 *   never duplicates), and an intent is stored (as for Minut) so that two attempts never
 *   create at once.
 * - Changes: `PATCH /bookings/{id}` with absolute values; cancellation: `status: cancelled`.
 */

export const KASIFY_CHANNEL = 'guest-sync';

export type KasifyBooking = {
  from: string;
  to: string;
  channel: string;
  channel_id: string;
  status: 'confirmed';
  guest_first_name: string | null;
  guest_last_name: string | null;
  guest_email: string | null;
  guest_phone: string | null;
  adults_count: number | null;
  children_count: number | null;
  infants_count: number | null;
  checkin_time: string | null;
  checkout_time: string | null;
};

export type KasifyDesired = { propertyId: string; booking: KasifyBooking; warnings: string[] };

const Credentials = z.object({ token: z.string().check(z.minLength(1)) });
const Booking = z.looseObject({ id: z.string(), channel: z.nullish(z.string()), channel_id: z.nullish(z.string()), status: z.nullish(z.string()) });
const BookingPage = z.object({ bookings: z.array(Booking), total: z.nullish(z.number()), page: z.nullish(z.number()), size: z.nullish(z.number()) });

const PAGE_SIZE = 100;
/** Every list is bounded: at most this many pages per look-up. */
const MAX_LOOKUP_PAGES = 50;

export function createKasifyTarget(deps: TargetDeps): Target<KasifyDesired> {
  const settings = deps.config.targets.kasify;
  if (!settings) throw new Error('targets.kasify is not configured');
  const now = deps.now ?? Date.now;
  const { http } = targetHttpClient('kasify', settings, deps);
  const api = new KasifyApi(settings.baseUrl.replace(/\/+$/, ''), settings.credentials, http, deps);

  return {
    name: 'kasify',
    pace: http,
    // The API has no delete: what erasure leaves behind (docs/erasure.md).
    keptAfterRemoval: 'Kasify keeps the cancelled booking with its guest details: delete it in Kasify',

    async checkCredentials(): Promise<string | void> {
      const propertyId = firstRouted(deps.config, (property) => property.targets.kasify?.propertyId);
      if (!propertyId) return 'no property routes to Kasify, so there is no property to ask';
      const credentials = Credentials.safeParse(await deps.secrets.get(settings.credentials));
      if (!credentials.success) throw invalidSecret('Kasify', settings.credentials, '{"token":"kas_pat_..."}');
      const query = new URLSearchParams({ page: '0', size: '1' });
      const url = `${settings.baseUrl.replace(/\/+$/, '')}/properties/${encodeURIComponent(propertyId)}/bookings?${query}`;
      const response = await http.request({ method: 'GET', url, headers: { authorization: `Bearer ${credentials.data.token}` } });
      expectAccepted('Kasify', settings.credentials, response, `listing the bookings of property ${propertyId}`);
    },

    reconciliation: {
      idOf: (ids) => ids.bookingId,
      async list(property, window) {
        const propertyId = property.targets.kasify?.propertyId;
        if (!propertyId) return [];
        return (await api.listBookings(propertyId, window)).map((booking) => {
          const [connectionId, ...rest] = (booking.channel === KASIFY_CHANNEL ? (booking.channel_id ?? '') : '').split(':');
          const reservationId = rest.join(':');
          return {
            id: booking.id,
            active: booking.status !== 'cancelled',
            ...(connectionId && reservationId ? { ours: { connectionId, reservationId } } : {}),
            differs: (desired: KasifyDesired) =>
              // A null is a value guest-sync does not know (left out of the create): nothing to compare.
              (Object.keys(desired.booking) as (keyof KasifyBooking)[]).filter((field) => desired.booking[field] !== null && (booking[field] ?? null) !== desired.booking[field]),
          };
        });
      },
    },

    desired(reservation: Reservation, property: PropertyConfig): KasifyDesired | null {
      const route = property.targets.kasify;
      if (!route || !hasGuestStay(reservation.status)) return null;
      const warnings = new Warnings();
      const { first, last } = splitName(reservation.guest);
      const { stay } = reservation;
      const party = partyOf(reservation);
      return {
        propertyId: route.propertyId,
        booking: {
          from: stay.checkInDate,
          to: stay.checkOutDate,
          channel: KASIFY_CHANNEL,
          channel_id: channelIdOf(reservation),
          status: 'confirmed',
          guest_first_name: first,
          guest_last_name: last,
          guest_email: email(reservation.guest, warnings, 'guest_email'),
          guest_phone: phoneE164(reservation.guest, warnings, 'guest_phone'),
          adults_count: kasifyCount(party.adults, 'adults_count', warnings, 1),
          children_count: kasifyCount(party.children, 'children_count', warnings, 0),
          infants_count: kasifyCount(party.infants, 'infants_count', warnings, 0),
          checkin_time: stay.checkInTime ?? property.checkInTime,
          checkout_time: stay.checkOutTime ?? property.checkOutTime,
        },
        warnings: warnings.list,
      };
    },

    async apply(input: ApplyInput<KasifyDesired>): Promise<ApplyResult> {
      const { desired, state } = input;
      const bookingId = state.targetIds.bookingId;
      const bookedOn = state.targetIds.propertyId;
      const live = state.status !== 'absent';

      if (bookingId && bookedOn && (desired === null || desired.propertyId !== bookedOn)) {
        if (live) await api.cancel(bookingId);
        if (desired === null) {
          return { action: 'cancelled', patch: { status: 'absent', targetIds: { propertyId: bookedOn, bookingId }, appliedFingerprint: input.fingerprint, intent: null, warnings: [] } };
        }
      }
      // Another attempt may be creating this booking right now: creating too could duplicate it,
      // and cancelling now could miss it.
      if (state.intent && state.intent.inFlightUntil > now()) {
        const seconds = Math.ceil((state.intent.inFlightUntil - now()) / 1000);
        throw new RetryableError(`kasify: a create for this reservation may still be in flight; retrying in ${seconds}s`, seconds, 'create_in_progress');
      }
      if (desired === null) {
        if (state.intent) {
          // A create may have happened without its answer reaching us: find it and cancel it.
          const intended = state.intent.desired as KasifyDesired;
          const found = await api.findOurs(intended.propertyId, [intended.booking]);
          if (found) await api.cancel(found.id);
        }
        return { action: 'unchanged', patch: { status: 'absent', appliedFingerprint: input.fingerprint, intent: null, warnings: [] } };
      }

      const synced = (action: string, id: string): ApplyResult => ({
        action,
        patch: { status: 'synced', targetIds: { propertyId: desired.propertyId, bookingId: id }, appliedFingerprint: input.fingerprint, intent: null, warnings: desired.warnings },
      });

      if (bookingId && bookedOn === desired.propertyId) {
        // Absolute values (status included, which also reinstates a cancelled booking): safe to repeat.
        if (await api.update(bookingId, desired.booking)) return synced(live ? 'updated' : 'reinstated', bookingId);
        // Deleted in Kasify behind our back: create it again.
      }

      // Listed only when a create of ours may have happened without its answer (an intent): a
      // look-up before every create would halve the bookings Kasify's rate limit allows.
      const intended = state.intent ? (state.intent.desired as KasifyDesired) : null;
      const existing = intended ? await api.findOurs(desired.propertyId, [desired.booking, intended.booking]) : undefined;
      if (existing) {
        await api.update(existing.id, desired.booking);
        return synced('adopted', existing.id);
      }

      // Conditional on the state version read above: of two racing attempts, only one gets here.
      const intent = { fingerprint: input.fingerprint, startedAt: now(), inFlightUntil: now() + CREATE_INTENT_LEASE_MS, desired };
      await input.save({ intent });
      try {
        const created = await api.create(desired.propertyId, desired.booking);
        return synced('created', created.id);
      } catch (error) {
        await input.save({ intent: { ...intent, inFlightUntil: 0 } });
        throw error;
      }
    },
  };
}

/** Kasify takes 0–100 per count; an adult count of 0 means "not known" and is left out. */
function kasifyCount(value: number | null, field: string, warnings: Warnings, min: number): number | null {
  if (value === null || value < min) return null;
  return value <= 100 ? value : warnings.drop(field, 'out_of_range_0_100');
}

function channelIdOf(reservation: Reservation): string {
  return `${reservation.connectionId}:${reservation.reservationId}`;
}

class KasifyApi {
  constructor(
    private readonly baseUrl: string,
    private readonly credentialsRef: string,
    private readonly http: HttpClient,
    private readonly deps: TargetDeps,
  ) {}

  /** Our booking for this reservation among the property's bookings on our channel around the candidate stays. */
  async findOurs(propertyId: string, candidates: KasifyBooking[]): Promise<z.infer<typeof Booking> | undefined> {
    const channelId = candidates[0]!.channel_id;
    const from = candidates.map((c) => c.from).sort()[0]!;
    const to = candidates.map((c) => c.to).sort().at(-1)!;
    // Not found within the cap is not "absent": creating could duplicate. Say so instead.
    const capped = new PermanentError(`Kasify lists more than ${MAX_LOOKUP_PAGES * PAGE_SIZE} of our bookings around this stay; the look-up before a create stopped there`, 'lookup_incomplete');
    for await (const bookings of this.bookingPages(propertyId, { channel: KASIFY_CHANNEL, from, to }, capped)) {
      const match = bookings.find((b) => b.channel === KASIFY_CHANNEL && b.channel_id === channelId);
      if (match) return match;
    }
    return undefined;
  }

  /** Every booking of the property around [from, to], all channels, all pages (bounded). */
  async listBookings(propertyId: string, window: { from: string; to: string }): Promise<z.infer<typeof Booking>[]> {
    const all: z.infer<typeof Booking>[] = [];
    const capped = new PermanentError(`Kasify lists more than ${MAX_LOOKUP_PAGES * PAGE_SIZE} bookings for this property; reconciliation stopped there`, 'list_incomplete');
    for await (const bookings of this.bookingPages(propertyId, window, capped)) all.push(...bookings);
    return all;
  }

  /** The property's bookings matching `filters`, page by page until the last; past MAX_LOOKUP_PAGES, `capped` is thrown. */
  private async *bookingPages(propertyId: string, filters: Record<string, string>, capped: Error): AsyncGenerator<z.infer<typeof Booking>[]> {
    for (let page = 0; page < MAX_LOOKUP_PAGES; page++) {
      const query = new URLSearchParams({ ...filters, page: String(page), size: String(PAGE_SIZE) });
      const response = await this.call({ method: 'GET', url: `${this.baseUrl}/properties/${enc(propertyId)}/bookings?${query}` });
      const list = BookingPage.parse(this.expectOk(response, 'list bookings'));
      yield list.bookings;
      if (list.bookings.length < PAGE_SIZE) return;
    }
    throw capped;
  }

  async create(propertyId: string, booking: KasifyBooking): Promise<z.infer<typeof Booking>> {
    const response = await this.call({ method: 'POST', url: `${this.baseUrl}/properties/${enc(propertyId)}/bookings`, body: withoutNulls(booking) });
    return Booking.parse(this.expectOk(response, 'create the booking'));
  }

  /** False when the booking no longer exists. */
  async update(bookingId: string, booking: KasifyBooking): Promise<boolean> {
    const response = await this.call({ method: 'PATCH', url: `${this.baseUrl}/bookings/${enc(bookingId)}`, body: booking });
    if (response.status === 404) return false;
    this.expectOk(response, 'update the booking');
    return true;
  }

  async cancel(bookingId: string): Promise<void> {
    const response = await this.call({ method: 'PATCH', url: `${this.baseUrl}/bookings/${enc(bookingId)}`, body: { status: 'cancelled' } });
    if (response.status === 404) return; // gone already
    this.expectOk(response, 'cancel the booking');
  }

  private async call(request: HttpRequest): Promise<HttpResponse> {
    const credentials = Credentials.safeParse(await this.deps.secrets.get(this.credentialsRef));
    if (!credentials.success) throw new PermanentError('the Kasify credentials secret must be {"token":"kas_pat_..."}', 'invalid_credentials_secret');
    return this.http.request({ ...request, headers: { ...request.headers, authorization: `Bearer ${credentials.data.token}` } });
  }

  private expectOk(response: HttpResponse, what: string): unknown {
    if (response.status >= 200 && response.status < 300) return response.json;
    throw nestedErrorRefusal(response, { name: 'kasify', label: 'Kasify', credential: 'access token' }, what);
  }
}

function withoutNulls(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null));
}

function enc(value: string): string {
  return encodeURIComponent(value);
}
