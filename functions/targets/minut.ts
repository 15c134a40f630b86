import * as z from '../core/zod.ts';
import type { PropertyConfig } from '../core/config.ts';
import { PermanentError, RetryableError } from '../core/errors.ts';
import { CREATE_INTENT_LEASE_MS } from '../core/budget.ts';
import { SharedToken } from '../core/shared-token.ts';
import { HttpClient, type HttpRequest, type HttpResponse } from '../core/http-client.ts';
import { count, logger } from '../core/powertools.ts';
import { displayName, hasGuestStay, type Reservation } from '../core/reservation.ts';
import { localToInstant } from '../core/local-time.ts';
import { targetHttpClient, vendorAccountKey, type ApplyInput, type ApplyResult, type Target, type TargetDeps } from './target.ts';
import { comparableName } from './normalise.ts';

/**
 * Minut (https://api.minut.com/v8): a guest per stay in a home.
 * - OAuth client_credentials; the token is shared by every worker through the store and
 *   refreshed ahead of `expires_in` by whichever worker takes the refresh lease.
 * - Create does not deduplicate, so an intent is stored before the POST. The home's guests
 *   are listed (all pages) before a create only when the state says the guest may exist: an
 *   intent left by a create whose answer was lost (matched on that create's name, check-in
 *   and check-out), or a home marked `nativeIntegration`, where Minut's own PMS connector
 *   may already hold the stay as a read-only guest (left alone). Any other guest with the
 *   same name and dates is another person's stay, never adopted.
 * - Read-only guests (native integrations) are never changed or deleted.
 */

export type MinutGuestRecord = {
  name: string;
  email: string | null;
  phone_number: string | null;
  checkin_time: string;
  checkout_time: string;
};

const MinutCredentials = z.object({ clientId: z.string().check(z.minLength(1)), clientSecret: z.string().check(z.minLength(1)) });
const TokenResponse = z.object({ access_token: z.string().check(z.minLength(1)), expires_in: z._default(z.number().check(z.positive()), 3600) });
const MinutGuest = z.object({
  guest_id: z.string(),
  name: z.nullish(z.string()),
  email: z.nullish(z.string()),
  phone_number: z.nullish(z.string()),
  checkin_time: z.nullish(z.string()),
  checkout_time: z.nullish(z.string()),
  readonly: z.nullish(z.boolean()),
  validation_errors: z.nullish(z.array(z.string())),
});
type MinutGuest = z.infer<typeof MinutGuest>;
const GuestPage = z.object({
  guests: z.array(MinutGuest),
  paging: z.optional(z.partial(z.object({ total_count: z.number(), limit: z.number(), offset: z.number() }))),
});
const ErrorBody = z.looseObject({ error_key: z.optional(z.string()), message: z.optional(z.string()) });

const PAGE_SIZE = 100;
/** Every list is bounded: at most this many pages per look-up. */
const MAX_LOOKUP_PAGES = 50;


export function createMinutTarget(deps: TargetDeps): Target<MinutGuestRecord> {
  const settings = deps.config.targets.minut;
  if (!settings) throw new Error('targets.minut is not configured');
  const now = deps.now ?? Date.now;
  const { http, instanceId } = targetHttpClient('minut', settings, deps);
  const api = new MinutApi(settings.baseUrl.replace(/\/+$/, ''), settings.credentials, http, deps, now, instanceId);

  return {
    name: 'minut',
    pace: http,

    async checkCredentials(): Promise<void> {
      await api.requestToken();
    },

    reconciliation: {
      idOf: (ids) => ids.guestId,
      async list(property) {
        const homeId = property.targets.minut?.homeId;
        if (!homeId) return [];
        // Minut's list has no date filter: the whole home, every page.
        return (await api.listGuests(homeId)).map((guest) => ({
          id: guest.guest_id,
          active: true,
          ...(guest.readonly ? { readonly: true } : {}),
          differs: (desired: MinutGuestRecord) =>
            (Object.keys(desired) as (keyof MinutGuestRecord)[]).filter((field) => {
              const want = desired[field];
              const have = guest[field] ?? null;
              // Instants compare as instants: Minut may write them in another ISO form.
              if (field === 'checkin_time' || field === 'checkout_time') return want === null || have === null ? want !== have : Date.parse(want) !== Date.parse(have);
              return want !== have;
            }),
        }));
      },
    },

    desired(reservation: Reservation, property: PropertyConfig): MinutGuestRecord | null {
      if (!hasGuestStay(reservation.status)) return null;
      const zone = property.timeZone;
      const { stay } = reservation;
      return {
        // Minut needs a name; a reservation without one still gets a recognisable guest.
        name: displayName(reservation.guest) ?? `Guest ${reservation.reservationId}`,
        email: reservation.guest.email,
        phone_number: reservation.guest.phone,
        checkin_time: localToInstant(stay.checkInDate, stay.checkInTime ?? property.checkInTime, zone),
        checkout_time: localToInstant(stay.checkOutDate, stay.checkOutTime ?? property.checkOutTime, zone),
      };
    },

    async apply(input: ApplyInput<MinutGuestRecord>): Promise<ApplyResult> {
      const homeId = input.property.targets.minut?.homeId;
      if (!homeId) throw new PermanentError('the property has no Minut home', 'not_routed');
      const { desired, state } = input;
      const guestId = state.targetIds.guestId;
      const ids = { homeId, ...(guestId ? { guestId } : {}) };

      if (guestId && state.status === 'readonly') {
        // A native-integration guest: Minut keeps it in step itself; we must not touch it.
        return { action: 'readonly', patch: { status: 'readonly', appliedFingerprint: input.fingerprint } };
      }

      if (guestId && state.targetIds.homeId === homeId) {
        if (desired === null) {
          await api.deleteGuest(homeId, guestId);
          return { action: 'deleted', patch: { status: 'absent', targetIds: { homeId }, appliedFingerprint: input.fingerprint, intent: null, warnings: [] } };
        }
        const updated = await api.updateGuest(homeId, guestId, desired);
        if (updated) {
          return { action: 'updated', patch: { status: 'synced', targetIds: ids, appliedFingerprint: input.fingerprint, intent: null, warnings: updated.validation_errors ?? [] } };
        }
        // Deleted in Minut behind our back: fall through and create it again.
      } else if (guestId) {
        // The property moved to another home: remove the guest from the old one first.
        await api.deleteGuest(state.targetIds.homeId!, guestId);
      }

      // Another attempt may be creating this guest right now: creating too could duplicate it,
      // and removing now could miss it.
      if (state.intent && state.intent.inFlightUntil > now()) {
        const seconds = Math.ceil((state.intent.inFlightUntil - now()) / 1000);
        throw new RetryableError(`minut: a create for this reservation may still be in flight; retrying in ${seconds}s`, seconds, 'create_in_progress');
      }

      if (desired === null) {
        if (state.intent) {
          // A create may have happened without its answer reaching us: find it and delete it.
          const found = await api.findGuest(homeId, [state.intent.desired as MinutGuestRecord], () => true);
          if (found && !found.readonly) await api.deleteGuest(homeId, found.guest_id);
        }
        return { action: 'unchanged', patch: { status: 'absent', targetIds: { homeId }, appliedFingerprint: input.fingerprint, intent: null } };
      }
      // Look-ups cost a list call (or more) per create: only where the guest may already be there.
      const intended = state.intent ? [state.intent.desired as MinutGuestRecord] : [];
      const native = input.property.targets.minut?.nativeIntegration === true;
      const existing =
        intended.length > 0 || native
          ? await api.findGuest(homeId, [...intended, ...(native ? [{ ...desired, checkout_time: null }] : [])], (guest) => intended.length > 0 || guest.readonly === true)
          : undefined;
      if (existing?.readonly) {
        logger.warn('Minut already has this stay as a read-only guest from a native integration; leaving it alone', { homeId, guestId: existing.guest_id });
        count('MinutReadonlyGuest');
        return {
          action: 'readonly',
          patch: { status: 'readonly', targetIds: { homeId, guestId: existing.guest_id }, appliedFingerprint: input.fingerprint, intent: null, warnings: ['readonly_guest'] },
        };
      }
      if (existing) {
        const updated = await api.updateGuest(homeId, existing.guest_id, desired);
        return {
          action: 'adopted',
          patch: { status: 'synced', targetIds: { homeId, guestId: existing.guest_id }, appliedFingerprint: input.fingerprint, intent: null, warnings: updated?.validation_errors ?? [] },
        };
      }

      // Conditional on the state version read above: of two racing attempts, only one gets here.
      const intent = { fingerprint: input.fingerprint, startedAt: now(), inFlightUntil: now() + CREATE_INTENT_LEASE_MS, desired };
      await input.save({ intent, targetIds: { homeId } });
      let created: MinutGuest;
      try {
        created = await api.createGuest(homeId, desired);
      } catch (error) {
        // Our create is over (the response was lost or refused): the next attempt may look it up at once.
        await input.save({ intent: { ...intent, inFlightUntil: 0 } });
        throw error;
      }
      const warnings = created.validation_errors ?? [];
      if (warnings.length > 0) count('MinutValidationErrors');
      return {
        action: 'created',
        patch: { status: 'synced', targetIds: { homeId, guestId: created.guest_id }, appliedFingerprint: input.fingerprint, intent: null, warnings },
      };
    },
  };
}

class MinutApi {
  private readonly token: SharedToken;

  constructor(
    private readonly baseUrl: string,
    private readonly credentialsRef: string,
    private readonly http: HttpClient,
    private readonly deps: TargetDeps,
    now: () => number,
    owner: string,
  ) {
    this.token = new SharedToken({
      name: 'minut',
      key: vendorAccountKey('minut', baseUrl, credentialsRef),
      owner,
      store: deps.store,
      grant: async () => {
        const token = await this.requestToken();
        return { accessToken: token.access_token, expiresInSeconds: token.expires_in };
      },
      grantTimeoutMs: http.timeoutMs,
      grantAttempts: http.maxAttempts,
      now,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    });
  }

  /**
   * A guest of the home that `acceptable` allows, with a candidate's name and check-in (as Minut's
   * guide matches) and, where the candidate names one (a create of ours), its check-out too.
   */
  async findGuest(homeId: string, candidates: (Omit<MinutGuestRecord, 'checkout_time'> & { checkout_time: string | null })[], acceptable: (guest: MinutGuest) => boolean): Promise<MinutGuest | undefined> {
    const wanted = candidates.map((c) => ({ at: Date.parse(c.checkin_time), out: c.checkout_time === null ? null : Date.parse(c.checkout_time), name: comparableName(c.name) }));
    // Not found within the cap is not "absent": creating could duplicate. Say so instead.
    const capped = new PermanentError(`the Minut home lists more than ${MAX_LOOKUP_PAGES * PAGE_SIZE} guests; the look-up before a create stopped there`, 'lookup_incomplete');
    for await (const guests of this.guestPages(homeId, capped)) {
      const match = guests.find(
        (g) =>
          !!g.checkin_time &&
          acceptable(g) &&
          wanted.some((w) => w.at === Date.parse(g.checkin_time!) && (w.out === null || !g.checkout_time || w.out === Date.parse(g.checkout_time)) && w.name === comparableName(g.name ?? '')),
      );
      if (match) return match;
    }
    return undefined;
  }

  /** Every guest of the home (bounded like the look-up). */
  async listGuests(homeId: string): Promise<MinutGuest[]> {
    const all: MinutGuest[] = [];
    const capped = new PermanentError(`the Minut home lists more than ${MAX_LOOKUP_PAGES * PAGE_SIZE} guests; reconciliation stopped there`, 'list_incomplete');
    for await (const guests of this.guestPages(homeId, capped)) all.push(...guests);
    return all;
  }

  /** The home's guests page by page, until the last page; past MAX_LOOKUP_PAGES, `capped` is thrown. */
  private async *guestPages(homeId: string, capped: Error): AsyncGenerator<MinutGuest[]> {
    for (let offset = 0; offset < MAX_LOOKUP_PAGES * PAGE_SIZE; offset += PAGE_SIZE) {
      const response = await this.call({ method: 'GET', url: `${this.baseUrl}/homes/${enc(homeId)}/guests?limit=${PAGE_SIZE}&offset=${offset}` });
      const page = GuestPage.parse(this.expectOk(response, 'list guests'));
      yield page.guests;
      const total = page.paging?.total_count;
      if (page.guests.length < PAGE_SIZE || (total !== undefined && offset + page.guests.length >= total)) return;
    }
    throw capped;
  }

  async createGuest(homeId: string, desired: MinutGuestRecord): Promise<MinutGuest> {
    const response = await this.call({ method: 'POST', url: `${this.baseUrl}/homes/${enc(homeId)}/guests`, body: withoutNulls(desired) });
    return MinutGuest.parse(this.expectOk(response, 'create guest'));
  }

  /** PATCH with absolute values (safe to repeat); undefined when the guest no longer exists. */
  async updateGuest(homeId: string, guestId: string, desired: MinutGuestRecord): Promise<MinutGuest | undefined> {
    const response = await this.call({ method: 'PATCH', url: `${this.baseUrl}/homes/${enc(homeId)}/guests/${enc(guestId)}`, body: desired });
    if (response.status === 404) return undefined;
    return MinutGuest.parse(this.expectOk(response, 'update guest'));
  }

  async deleteGuest(homeId: string, guestId: string): Promise<void> {
    const response = await this.call({ method: 'DELETE', url: `${this.baseUrl}/homes/${enc(homeId)}/guests/${enc(guestId)}` });
    if (response.status === 404) return; // already gone
    this.expectOk(response, 'delete guest');
  }

  private call(request: HttpRequest): Promise<HttpResponse> {
    return this.token.call((token) => this.http.request({ ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } }));
  }

  private expectOk(response: HttpResponse, what: string): unknown {
    if (response.status >= 200 && response.status < 300) return response.json;
    const body = ErrorBody.safeParse(response.json ?? {});
    const key = (body.success && body.data.error_key) || `http_${response.status}`;
    if (response.status === 401 || response.status === 403) count('TargetAuthFailure', { target: 'minut' });
    throw new PermanentError(`Minut refused to ${what} (${response.status} ${key})`, key, response.status);
  }

  /** One client_credentials grant; throws a PermanentError naming the credentials when Minut refuses them. */
  async requestToken(): Promise<z.infer<typeof TokenResponse>> {
    const credentials = MinutCredentials.parse(await this.deps.secrets.get(this.credentialsRef));
    const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64');
    const response = await this.http.request({
      method: 'POST',
      url: `${this.baseUrl}/oauth/token`,
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&response_type=token',
      idempotent: true,
    });
    if (response.status !== 200) {
      count('TargetAuthFailure', { target: 'minut' });
      throw new PermanentError(`Minut refused the client credentials "${this.credentialsRef}" (${response.status})`, response.status === 401 ? 'invalid_client' : `http_${response.status}`, response.status);
    }
    return TokenResponse.parse(response.json);
  }
}

function withoutNulls(record: MinutGuestRecord): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter((entry): entry is [string, string] => entry[1] !== null));
}

function enc(value: string): string {
  return encodeURIComponent(value);
}

