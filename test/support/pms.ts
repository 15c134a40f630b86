import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signHospitable } from '../../functions/sources/hospitable.ts';
import { signLodgify } from '../../functions/sources/lodgify.ts';
import { signSmily } from '../../functions/sources/smily.ts';
import { signStandardWebhook } from '../../infra/local/standard-webhooks-signer.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { postWebhook, type WebhookReply } from './stack.ts';

/** The demo secrets of config/secrets.example.json (sandbox-only). */
export const GUESTY_SECRET = 'whsec_ZGVtby1ndWVzdHktc2lnbmluZy1rZXktMzJieXRlcyE=';
export const SMILY_SECRET = 'demo-smily-application-secret';
export const GUESTY_LISTING = '6421f0b9c8d7e60011223344';
export const GUESTY_HOME = 'home_demo_city';
export const SMILY_RENTAL = 7731;
export const SMILY_HOME = 'home_demo_seaside';

export const example = <T = Record<string, unknown>>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8')) as T;

/** Svix headers (`svix-*`), or the white-label `webhook-*` ones. */
export function guestyHeaders(body: string, options: { prefix?: 'svix' | 'webhook'; secret?: string; at?: number; id?: string } = {}): Record<string, string> {
  const signed = signStandardWebhook(options.secret ?? GUESTY_SECRET, options.id ?? `msg_${randomUUID()}`, options.at ?? Math.floor(Date.now() / 1000), body);
  const prefix = options.prefix ?? 'svix';
  return Object.fromEntries(Object.entries(signed).map(([name, value]) => [name.replace(/^webhook-/, `${prefix}-`), value]));
}

export function sendGuesty(stack: LocalStack, delivery: unknown, options: Parameters<typeof guestyHeaders>[1] = {}): Promise<WebhookReply> {
  const body = typeof delivery === 'string' ? delivery : JSON.stringify(delivery);
  return postWebhook(stack, 'guesty-demo', body, guestyHeaders(body, options));
}

export function sendSmily(stack: LocalStack, delivery: unknown, secret = SMILY_SECRET): Promise<WebhookReply> {
  const body = typeof delivery === 'string' ? delivery : JSON.stringify(delivery);
  return postWebhook(stack, 'smily-demo', body, { 'x-content-signature': signSmily(secret, body), 'user-agent': 'BookingSync Webhook Delivery' });
}

const guestyExample = example<{ reservation: Record<string, unknown> }>('guesty-reservation.new.json').reservation;
let guestyClock = Date.parse('2026-05-02T10:00:00Z');

/** A Guesty reservation (as the Open API and legacy webhooks send it), each with a later lastUpdatedAt. */
export function guestyReservation(fields: Record<string, unknown>): Record<string, unknown> {
  guestyClock += 60_000;
  return { ...guestyExample, lastUpdatedAt: new Date(guestyClock).toISOString(), ...fields };
}

const smilyExample = example<{ resource: { booking: Record<string, unknown> } }>('smily-booking_created.json').resource.booking;
let smilyClock = Date.parse('2026-05-02T10:00:00Z');

/** A Smily booking (API v3 shape), each with a later updated_at. */
export function smilyBooking(fields: Record<string, unknown>, links: Record<string, unknown> = {}): Record<string, unknown> {
  smilyClock += 60_000;
  return { ...smilyExample, updated_at: new Date(smilyClock).toISOString().replace('.000Z', 'Z'), ...fields, links: { ...(smilyExample.links as object), ...links } };
}

export function smilyEnvelope(event: string, booking: Record<string, unknown>): Record<string, unknown> {
  return { account_id: 1059638630, event, resource: { links: {}, booking } };
}

export function smilyClient(id: number, fields: Record<string, unknown>): Record<string, unknown> {
  return { links: { account: 1059638630 }, id, addresses: [], emails: [], phones: [], created_at: '2026-05-02T09:14:24Z', updated_at: '2026-05-02T09:14:24Z', notes: null, preferred_locale: 'en', ...fields };
}

// ---- Lodgify, Hospitable, Smoobu (demo connections routed to all four targets).
export const LODGIFY_SECRETS = ['demo-lodgify-booking-new-secret', 'demo-lodgify-booking-change-secret'] as const;
export const HOSPITABLE_SECRET = 'demo-hospitable-webhook-secret';
export const SMOOBU_TOKEN = 'demo-smoobu-url-token-7Qm2xW9aLr4Kp8Vz';
export const LODGIFY_PROPERTY = 331207;
export const HOSPITABLE_PROPERTY = '550e8400-e29b-41d4-a716-446655440000';
export const SMOOBU_APARTMENT = 505200;

export function sendLodgify(stack: LocalStack, delivery: unknown, secret: string = LODGIFY_SECRETS[0]): Promise<WebhookReply> {
  const body = typeof delivery === 'string' ? delivery : JSON.stringify(delivery);
  return postWebhook(stack, 'lodgify-demo', body, { 'ms-signature': signLodgify(secret, body) });
}

export function sendHospitable(stack: LocalStack, delivery: unknown, secret = HOSPITABLE_SECRET): Promise<WebhookReply> {
  const body = typeof delivery === 'string' ? delivery : JSON.stringify(delivery);
  return postWebhook(stack, 'hospitable-demo', body, { signature: signHospitable(secret, body) });
}

/** Smoobu signs nothing: the token rides in the URL, as `?token=` or as the last path segment. */
export function sendSmoobu(stack: LocalStack, delivery: unknown, options: { token?: string | null; via?: 'query' | 'path'; connectionId?: string } = {}): Promise<WebhookReply> {
  const body = typeof delivery === 'string' ? delivery : JSON.stringify(delivery);
  const token = options.token === undefined ? SMOOBU_TOKEN : options.token;
  const id = options.connectionId ?? 'smoobu-demo';
  const path = token === null ? id : options.via === 'path' ? `${id}/${encodeURIComponent(token)}` : `${id}?token=${encodeURIComponent(token)}`;
  return postWebhook(stack, path, body, {});
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let ulidCounter = 0;

/** A ULID for a time (Hospitable's event ids): 10 characters of milliseconds, 16 of a counter. */
export function ulidAt(ms: number): string {
  let time = '';
  for (let rest = ms, i = 0; i < 10; i++, rest = Math.floor(rest / 32)) time = CROCKFORD[rest % 32] + time;
  let tail = '';
  for (let rest = ++ulidCounter, i = 0; i < 16; i++, rest = Math.floor(rest / 32)) tail = CROCKFORD[rest % 32] + tail;
  return time + tail;
}
