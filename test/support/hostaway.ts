import { readFileSync } from 'node:fs';

/** The Hostaway fixture (values fake), as a builder for variants. */
const fixture = JSON.parse(readFileSync(new URL('../../examples/hostaway-reservation.created.json', import.meta.url), 'utf8')) as {
  object: string;
  event: string;
  accountId: number;
  data: Record<string, unknown>;
};

export type HostawayData = Record<string, unknown>;

let clock = Date.parse('2026-05-02T09:14:27Z');

/** A Hostaway delivery; each call gets a later `updatedOn` unless one is given. */
export function hostawayDelivery(event: 'reservation.created' | 'reservation.updated' | string, data: HostawayData = {}): Record<string, unknown> {
  clock += 60_000;
  const updatedOn = new Date(clock).toISOString().replace('T', ' ').slice(0, 19);
  return { ...fixture, event, data: { ...fixture.data, updatedOn, ...data } };
}

export const HOSTAWAY_AUTH = `Basic ${Buffer.from('hostaway-demo:demo-basic-password').toString('base64')}`;
/** Where the example config routes Hostaway listing 219407 in each target sandbox. */
export const SEASIDE_HOME = 'home_demo_seaside';
export const SEASIDE_SLUG = 'seaside-hotel';
export const SEASIDE_KASIFY_PROPERTY = '6f1d2c1e-5b7a-4c1e-9a51-2f6f3b8c9d01';
