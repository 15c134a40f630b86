import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import { searchPage } from '../../functions/sources/guesty-api.ts';
import { guesty } from '../../functions/sources/guesty.ts';
import type { SourceContext } from '../../functions/sources/source.ts';
import { signStandardWebhook } from '../../infra/local/standard-webhooks-signer.ts';

// The public Svix / Standard Webhooks vectors (reference/fixtures/pms/signature-vectors.json).
const vectors = (JSON.parse(readFileSync(new URL('../fixtures/signature-vectors.json', import.meta.url), 'utf8')) as {
  vectors: { name: string; secret: string; headers: Record<string, string>; body: string; expected_valid: boolean }[];
}).vectors.filter((v) => v.name.startsWith('svix'));

const config = parseConfig({
  connections: {
    g: { pms: 'guesty', secret: 'g', api: { baseUrl: 'http://127.0.0.1:1/guesty', credentials: 'g-api' }, properties: { L1: { timeZone: 'Europe/Berlin', country: 'DE', targets: {} } } },
  },
  targets: {},
});
const contextAt = (nowMs: number): SourceContext => ({ connectionId: 'g', connection: config.connections.g!, now: nowMs });
const verify = (body: string, headers: Record<string, string>, secret: unknown, nowMs: number) => guesty.verify({ rawBody: body, headers }, secret, contextAt(nowMs));
const asWebhookHeaders = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.replace(/^svix-/, 'webhook-'), v]));

describe('Guesty Svix verification (public vectors, clock injected)', () => {
  expect(vectors.length).toBe(3);
  for (const vector of vectors) {
    const at = Number(vector.headers['svix-timestamp']) * 1000;
    for (const [label, headers] of [['svix-*', vector.headers], ['webhook-*', asWebhookHeaders(vector.headers)]] as const) {
      it(`${vector.name} with ${label} headers is ${vector.expected_valid ? 'accepted' : 'rejected'}`, () => {
        if (vector.expected_valid) expect(verify(vector.body, headers, vector.secret, at)).toEqual({ deliveryId: vector.headers['svix-id'] });
        else expect(() => verify(vector.body, headers, vector.secret, at)).toThrow(expect.objectContaining({ statusCode: 401, code: 'invalid_signature' }));
      });
    }
  }

  const good = vectors.find((v) => v.name === 'svix-official-sign')!;
  const at = Number(good.headers['svix-timestamp']) * 1000;
  it('gives each failure its own code: tampered body, wrong secret, stale, future, missing header', () => {
    expect(() => verify('{"test": 2432232315}', good.headers, good.secret, at)).toThrow(expect.objectContaining({ statusCode: 401, code: 'invalid_signature' }));
    expect(() => verify(good.body, good.headers, 'whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmI=', at)).toThrow(expect.objectContaining({ statusCode: 401, code: 'invalid_signature' }));
    expect(() => verify(good.body, good.headers, good.secret, at + 301_000)).toThrow(expect.objectContaining({ statusCode: 401, code: 'stale_timestamp' }));
    expect(() => verify(good.body, good.headers, good.secret, at - 301_000)).toThrow(expect.objectContaining({ statusCode: 401, code: 'future_timestamp' }));
    const { 'svix-signature': _dropped, ...noSignature } = good.headers;
    expect(() => verify(good.body, noSignature, good.secret, at)).toThrow(expect.objectContaining({ statusCode: 401, code: 'missing_signature' }));
    expect(() => verify(good.body, {}, good.secret, at)).toThrow(expect.objectContaining({ message: expect.stringContaining('svix-id') }));
  });

  it('accepts the 5-minute edge both ways and a rotated secret', () => {
    expect(verify(good.body, good.headers, good.secret, at + 300_000)).toEqual({ deliveryId: good.headers['svix-id'] });
    expect(verify(good.body, good.headers, good.secret, at - 300_000)).toEqual({ deliveryId: good.headers['svix-id'] });
    expect(verify(good.body, good.headers, { current: 'whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ=', previous: good.secret }, at)).toEqual({ deliveryId: good.headers['svix-id'] });
  });

  it('reads svix-* first when both sets are present', () => {
    const body = '{"event":"ping"}';
    const svix = Object.fromEntries(Object.entries(signStandardWebhook(good.secret, 'msg_a', 1_700_000_000, body)).map(([k, v]) => [k.replace('webhook-', 'svix-'), v]));
    const stale = signStandardWebhook(good.secret, 'msg_b', 1_600_000_000, body);
    expect(verify(body, { ...stale, ...svix }, good.secret, 1_700_000_000_000)).toEqual({ deliveryId: 'msg_a' });
  });
});

describe('Guesty parsing', () => {
  const context = contextAt(Date.now());
  const reservation = (fields: Record<string, unknown>) => ({
    _id: 'R1',
    listingId: 'L1',
    guestId: 'G1',
    status: 'confirmed',
    checkIn: '2026-10-24T13:00:00.000Z',
    checkOut: '2026-10-26T10:00:00.000Z',
    checkInDateLocalized: '2026-10-24',
    checkOutDateLocalized: '2026-10-26',
    lastUpdatedAt: '2026-05-02T09:14:27.512Z',
    ...fields,
  });
  const legacy = (fields: Record<string, unknown>) => {
    const parsed = guesty.parse({ event: 'reservation.updated', reservation: reservation(fields) }, context);
    if (parsed.kind !== 'thin' || parsed.events[0]?.kind !== 'reservation_ref') throw new Error(`expected a reservation_ref, got ${parsed.kind}`);
    return parsed.events[0];
  };

  it('maps the statuses: canceled, declined and closed cancel; inquiry, reserved and expired hold no stay', () => {
    const status = (s: string) => legacy({ status: s }).partial!.status;
    expect(['confirmed', 'checked_in', 'checked_out'].map(status)).toEqual(['confirmed', 'checked_in', 'checked_out']);
    expect(['canceled', 'declined', 'closed'].map(status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(['inquiry', 'reserved', 'expired'].map(status)).toEqual(['inquiry', 'tentative', 'expired']);
  });

  it('takes the Localized dates and the times of the instants in the listing zone, across the autumn DST change', () => {
    // Berlin leaves summer time on 25 October 2026: 13:00Z is 15:00 CEST, 10:00Z is 11:00 CET.
    expect(legacy({}).partial!.stay).toEqual({ checkInDate: '2026-10-24', checkOutDate: '2026-10-26', checkInTime: '15:00', checkOutTime: '11:00', timeZone: null });
    expect(legacy({}).hints).toEqual({ event: 'reservation.updated', guestId: 'G1' });
  });

  it('uses a guest embedded in a legacy reservation directly', () => {
    const parsed = guesty.parse({ event: 'reservation.new', reservation: reservation({ guest: { fullName: 'Ann Émile', email: 'ann@example.com' } }) }, context);
    expect(parsed.kind).toBe('reservations');
    if (parsed.kind === 'reservations') expect(parsed.reservations[0]!.guest).toMatchObject({ fullName: 'Ann Émile', email: 'ann@example.com' });
  });

  it('finds the v2 reservation id in nested shapes and rejects only an envelope without one', () => {
    const ids = [{ reservationId: 'A' }, { data: { reservation: { _id: 'B' } } }, { data: { reservationId: 'C' } }, { reservation: { id: 'D' } }].map((shape) => {
      const parsed = guesty.parse({ event: 'reservation.updated.v2', ...shape }, context);
      return parsed.kind === 'thin' && parsed.events[0]?.kind === 'reservation_ref' ? parsed.events[0].reservationId : undefined;
    });
    expect(ids).toEqual(['A', 'B', 'C', 'D']);
    expect(() => guesty.parse({ event: 'reservation.updated.v2', data: { status: 'x' } }, context)).toThrow(expect.objectContaining({ statusCode: 400, code: 'missing_field' }));
  });
});

describe('Guesty reservations search page (backfill)', () => {
  const cases: { name: string; body: Record<string, unknown>; ids?: string[]; hasMore?: boolean; error?: string }[] = [
    { name: 'ids from reservationId, more to come', body: { results: [{ reservationId: 'A' }, { reservationId: 'B' }], pagination: { skip: 0, limit: 2, hasMore: true } }, ids: ['A', 'B'], hasMore: true },
    { name: 'an item named by _id', body: { results: [{ _id: 'C' }], pagination: { hasMore: false } }, ids: ['C'], hasMore: false },
    { name: 'no pagination: the last page', body: { results: [{ reservationId: 'D' }] }, ids: ['D'], hasMore: false },
    { name: 'an empty last page', body: { results: [], pagination: { hasMore: false } }, ids: [], hasMore: false },
    { name: 'no results list (a proxy page, an error body)', body: { message: 'upstream' }, error: 'answered no results list' },
    { name: 'an item without an id', body: { results: [{ status: 'confirmed' }] }, error: 'has no reservation id' },
    { name: 'more promised on an empty page (would page forever)', body: { results: [], pagination: { hasMore: true } }, error: 'says more pages follow' },
  ];
  it.each(cases)('$name', ({ body, ids, hasMore, error }) => {
    if (error) expect(() => searchPage(body)).toThrow(expect.objectContaining({ code: 'invalid_response', message: expect.stringContaining(error) }));
    else expect(searchPage(body)).toEqual({ ids, hasMore });
  });
});
