import { jsonReply, type SandboxResponse } from './http.ts';
import { PmsApiSandbox, RecordBook, type PmsApiSandboxOptions } from './pms-api.ts';

/**
 * Offline stand-in for the Mews Connector API, mounted at `/mews` (client base URL
 * `http://127.0.0.1:4010/mews`): `POST /api/connector/v1/reservations/getAll/2023-06-06`
 * (`ReservationIds` or `AccountIds`, `Limitation` required, cursor paging),
 * `customers/getAll` (`CustomerIds`, `Extent` and `Limitation` required) and
 * `ageCategories/getAll`, with `ClientToken`, `AccessToken` and `Client` in every JSON body
 * and the access token bound to its enterprise. Errors as `{"Message": …}`; an unknown
 * reservation id is an empty list, as Mews answers. Seeded with the reservation and customer
 * examples/mews-ServiceOrderUpdated.json names. Data controls:
 * `PUT|DELETE /_sandbox/mews/reservations/{id}`, `PUT|DELETE /_sandbox/mews/customers/{id}`.
 */

export const MEWS_DEMO_CLIENT_TOKEN = 'demo-mews-client-token';
export const MEWS_DEMO_ENTERPRISE = '851df8c8-90f2-4c4a-8e01-a4fc46b25178';
/** Sandbox-only demo access tokens, one per enterprise; they grant nothing anywhere else. */
export const MEWS_DEMO_ACCESS_TOKENS: Readonly<Record<string, string>> = { [MEWS_DEMO_ENTERPRISE]: 'demo-mews-access-token' };

export const MEWS_ADULT_CATEGORY = '1f67644f-052d-4863-acdf-ae1600c60ca0';
export const MEWS_CHILD_CATEGORY = 'ab58c939-be30-4a60-8f75-ae1600c60c9f';

export const MEWS_EXAMPLE_RESERVATION: Record<string, unknown> = {
  Id: '0f515589-99b4-423d-b83a-b237009f0509',
  ServiceId: 'bd26d8db-86da-4f96-9efc-e5a4654a4a94',
  Number: '52',
  State: 'Confirmed',
  Origin: 'Connector',
  ScheduledStartUtc: '2026-07-10T13:00:00Z',
  ScheduledEndUtc: '2026-07-14T09:00:00Z',
  ActualStartUtc: null,
  ActualEndUtc: null,
  AssignedResourceId: '5ee074b1-6c86-48e8-915f-c7aa4702086f',
  RequestedResourceCategoryId: '773d5e42-de1e-43a0-9ce6-f940faf2303f',
  AccountId: 'fadd5bb6-b428-45d5-94f8-fd0d89fece6d',
  AccountType: 'Customer',
  PersonCounts: [
    { AgeCategoryId: MEWS_ADULT_CATEGORY, Count: 2 },
    { AgeCategoryId: MEWS_CHILD_CATEGORY, Count: 1 },
  ],
  CreatedUtc: '2026-05-02T09:14:25Z',
  UpdatedUtc: '2026-05-02T09:14:27Z',
  CancelledUtc: null,
  CancellationReason: null,
};

export const MEWS_EXAMPLE_CUSTOMER: Record<string, unknown> = {
  Id: 'fadd5bb6-b428-45d5-94f8-fd0d89fece6d',
  FirstName: 'Maria',
  LastName: 'Lindqvist',
  Email: 'maria.lindqvist@example.com',
  HasOtaEmail: false,
  Phone: '+46701234567',
  NationalityCode: 'SE',
  PreferredLanguageCode: 'sv-SE',
  UpdatedUtc: '2026-05-02T09:14:26Z',
};

const AGE_CATEGORIES = [
  { Id: MEWS_ADULT_CATEGORY, ServiceId: MEWS_EXAMPLE_RESERVATION.ServiceId, Classification: 'Adult', MinimalAge: 18, IsActive: true },
  { Id: MEWS_CHILD_CATEGORY, ServiceId: MEWS_EXAMPLE_RESERVATION.ServiceId, Classification: 'Child', MinimalAge: 0, MaximalAge: 17, IsActive: true },
];

type Body = Record<string, unknown>;

export class MewsSandbox extends PmsApiSandbox {
  readonly reservations = new RecordBook(() => [{ ...MEWS_EXAMPLE_RESERVATION, EnterpriseId: MEWS_DEMO_ENTERPRISE }], 'Id');
  readonly customers = new RecordBook(() => [MEWS_EXAMPLE_CUSTOMER], 'Id');

  constructor(options: PmsApiSandboxOptions = {}) {
    super('/mews', { kind: 'body', accepts: (body) => body.ClientToken === MEWS_DEMO_CLIENT_TOKEN && Object.values(MEWS_DEMO_ACCESS_TOKENS).includes(String(body.AccessToken)) && typeof body.Client === 'string' }, options);
    const v1 = '/api/connector/v1';
    this.api
      .add('POST', `${v1}/reservations/getAll/2023-06-06`, ({ req }) => this.withBody(req.body, (body) => this.reservationsOf(body)))
      .add('POST', `${v1}/customers/getAll`, ({ req }) => this.withBody(req.body, (body) => this.customersOf(body)))
      .add('POST', `${v1}/ageCategories/getAll`, ({ req }) => this.withBody(req.body, () => jsonReply(200, { AgeCategories: AGE_CATEGORIES, Cursor: null })));
    this.reservations.addControls(this.control, '/reservations');
    this.customers.addControls(this.control, '/customers');
  }

  protected override unauthorized(): SandboxResponse {
    return jsonReply(401, { Message: 'Invalid ClientToken or AccessToken.' });
  }

  protected resetData(): void {
    this.reservations.reset();
    this.customers.reset();
  }

  private withBody(raw: Buffer, handle: (body: Body) => SandboxResponse): SandboxResponse {
    const body = JSON.parse(raw.toString('utf8')) as Body; // auth already parsed it
    const limitation = body.Limitation as { Count?: unknown } | undefined;
    if (!limitation || typeof limitation.Count !== 'number' || limitation.Count < 1 || limitation.Count > 1000) return jsonReply(400, { Message: 'Invalid Limitation.' });
    return handle(body);
  }

  /** The enterprise the access token belongs to: it sees only that enterprise's data. */
  private enterpriseOf(body: Body): string | undefined {
    return Object.entries(MEWS_DEMO_ACCESS_TOKENS).find(([, token]) => token === body.AccessToken)?.[0];
  }

  private reservationsOf(body: Body): SandboxResponse {
    const enterprise = this.enterpriseOf(body);
    const ids = Array.isArray(body.ReservationIds) ? body.ReservationIds.map(String) : undefined;
    const accounts = Array.isArray(body.AccountIds) ? body.AccountIds.map(String) : undefined;
    const window = body.ScheduledEndUtc as { StartUtc?: string; EndUtc?: string } | undefined;
    // `CollidingUtc`: reservations whose stay overlaps the interval; like every interval, at most 3 months.
    const colliding = body.CollidingUtc as { StartUtc?: string; EndUtc?: string } | undefined;
    if (!ids && !accounts && !colliding && !window) return jsonReply(400, { Message: 'Invalid ReservationIds.' });
    for (const interval of [window, colliding]) {
      if (interval?.StartUtc && interval.EndUtc && Date.parse(interval.EndUtc) - Date.parse(interval.StartUtc) > 92 * 86_400_000) return jsonReply(400, { Message: 'The time interval must not be longer than 3 months.' });
    }
    const list = this.reservations
      .all()
      .filter((r) => r.EnterpriseId === enterprise)
      .filter((r) => !ids || ids.includes(String(r.Id)))
      .filter((r) => !accounts || accounts.includes(String(r.AccountId)))
      .filter((r) => !window?.StartUtc || Date.parse(String(r.ScheduledEndUtc)) >= Date.parse(window.StartUtc))
      .filter((r) => !window?.EndUtc || Date.parse(String(r.ScheduledEndUtc)) <= Date.parse(window.EndUtc))
      .filter((r) => !colliding?.StartUtc || Date.parse(String(r.ScheduledEndUtc)) > Date.parse(colliding.StartUtc))
      .filter((r) => !colliding?.EndUtc || Date.parse(String(r.ScheduledStartUtc)) < Date.parse(colliding.EndUtc))
      .map(({ EnterpriseId: _enterprise, ...reservation }) => reservation);
    // Cursor paging as Mews documents it: the cursor is the last item of the previous page.
    const { Count: count, Cursor: cursor } = body.Limitation as { Count: number; Cursor?: string };
    const from = cursor ? list.findIndex((r) => r.Id === cursor) + 1 : 0;
    const page = list.slice(from, from + count);
    return jsonReply(200, { Reservations: page, Cursor: from + count < list.length ? String(page.at(-1)!.Id) : null });
  }

  private customersOf(body: Body): SandboxResponse {
    if (!body.Extent) return jsonReply(400, { Message: 'Invalid Extent.' });
    const ids = Array.isArray(body.CustomerIds) ? body.CustomerIds.map(String) : [];
    return jsonReply(200, { Customers: this.customers.all().filter((c) => ids.includes(String(c.Id))), Cursor: null });
  }
}
