import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signSmily } from '../../functions/sources/smily.ts';
import { signStandardWebhook } from '../../functions/sources/standard-webhooks.ts';
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
