import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/core/config.ts';
import { rubyBase64, signSmily, smily } from '../../functions/sources/smily.ts';
import type { SourceContext } from '../../functions/sources/source.ts';

const secret = 'demo-smily-application-secret';
// 142 bytes: its Base64 is 192 characters, i.e. three full 60-character lines and a short one.
const body = '{"account_id":1059638630,"event":"booking_updated","resource":{"booking":{"id":81234567,"status":"Booked","start_at":"2026-07-10T14:00:00Z"}}}';
// Computed independently: printf '%s' "$BODY" | base64 -w 60 | openssl dgst -sha1 -hmac "$SECRET"
const expected = '0bade5f8870e73d0720b0ef0d9a576ce5ad21ed5';

const config = parseConfig({
  connections: { s: { pms: 'smily', secret: 's', api: { baseUrl: 'http://127.0.0.1:1/smily', credentials: 's-api' }, properties: { '7731': { timeZone: 'Europe/Stockholm', targets: {} } } } },
  targets: {},
});
const context: SourceContext = { connectionId: 's', connection: config.connections.s!, now: Date.now() };
const verify = (raw: string, signature: string | undefined, secrets: unknown = secret) =>
  smily.verify({ rawBody: raw, headers: signature === undefined ? {} : { 'x-content-signature': signature } }, secrets, context);

describe('Smily X-Content-Signature', () => {
  it('wraps Base64 like Ruby encode64: a newline after every 60 characters and at the end', () => {
    const wrapped = rubyBase64(Buffer.from(body));
    const lines = wrapped.split('\n');
    expect(lines.map((l) => l.length)).toEqual([60, 60, 60, 12, 0]);
    expect(wrapped.endsWith('==\n')).toBe(true);
    expect(rubyBase64(Buffer.from('abc'))).toBe('YWJj\n');
    expect(rubyBase64(Buffer.alloc(0))).toBe('');
    // Exactly one full line, then one character more.
    expect(rubyBase64(Buffer.alloc(45, 'a'))).toBe(`${'YWFh'.repeat(15)}\n`);
    expect(rubyBase64(Buffer.alloc(46, 'a'))).toBe(`${'YWFh'.repeat(15)}\nYQ==\n`);
  });

  it('matches a signature computed with base64 -w 60 and openssl, for a body longer than 60 Base64 characters', () => {
    expect(signSmily(secret, body)).toBe(expected);
    expect(verify(body, expected)).toEqual({});
    expect(verify(body, expected.toUpperCase())).toEqual({}); // hex case does not matter
  });

  it('would not match with unwrapped Base64 (the usual mistake)', () => {
    const naive = createHmac('sha1', secret).update(Buffer.from(body).toString('base64')).digest('hex');
    expect(naive).not.toBe(expected);
    expect(() => verify(body, naive)).toThrow(expect.objectContaining({ statusCode: 401, code: 'invalid_signature' }));
  });

  it('rejects a tampered body, a wrong secret and a missing header, each with its code', () => {
    expect(() => verify(body.replace('81234567', '81234568'), expected)).toThrow(expect.objectContaining({ statusCode: 401, code: 'invalid_signature' }));
    expect(() => verify(body, expected, 'another-secret')).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
    expect(() => verify(body, undefined)).toThrow(expect.objectContaining({ statusCode: 401, code: 'missing_signature' }));
  });

  it('accepts the previous secret during a rotation', () => {
    expect(verify(body, expected, { current: 'new-secret', previous: secret })).toEqual({});
  });
});

describe('Smily parsing', () => {
  const booking = (fields: Record<string, unknown>) => ({
    account_id: 1,
    event: 'booking_updated',
    resource: { booking: { id: 5, status: 'Booked', start_at: '2026-03-29T00:30:00Z', end_at: '2026-03-31T09:00:00Z', updated_at: '2026-02-01T10:00:00Z', links: { rental: 7731, client: 9 }, ...fields } },
  });
  const partial = (fields: Record<string, unknown>) => {
    const parsed = smily.parse(booking(fields), context);
    if (parsed.kind !== 'thin' || parsed.events[0]?.kind !== 'reservation_ref') throw new Error('expected a reservation_ref');
    return parsed.events[0].partial!;
  };

  it('maps the statuses', () => {
    expect(partial({}).status).toBe('confirmed');
    expect(partial({ status: 'Canceled' }).status).toBe('cancelled');
    expect(partial({ status: 'Unavailable' }).status).toBe('owner_block');
    expect(partial({ status: 'Tentative' }).status).toBe('tentative');
    expect(partial({ canceled_at: '2026-02-02T00:00:00Z' }).status).toBe('cancelled');
  });

  it('derives local dates from the UTC instants in the rental zone, across the spring DST change', () => {
    // Stockholm moves to UTC+2 on 29 March 2026 at 01:00 UTC: 00:30Z is 01:30 CET; 09:00Z is 11:00 CEST.
    expect(partial({}).stay).toEqual({ checkInDate: '2026-03-29', checkOutDate: '2026-03-31', checkInTime: '01:30', checkOutTime: '11:00', timeZone: 'Europe/Stockholm' });
  });

  it('accepts a bookings array and a destroyed booking that is only an id', () => {
    const parsed = smily.parse({ account_id: 1, event: 'booking_destroyed', resource: { bookings: [{ id: 77 }] } }, context);
    expect(parsed).toEqual({ kind: 'thin', events: [{ kind: 'reservation_ref', reservationId: '77', hints: { event: 'booking_destroyed', clientId: null } }] });
  });
});
