import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStack } from '../infra/local/stack.ts';
import { signStandardWebhook } from '../infra/local/standard-webhooks-signer.ts';

/** The signing secret of the bench config's generic connections (config/secrets.example.json). */
export const SECRET = 'whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5LTMyYnl0ZXM=';

export interface BenchReservation {
  id: string;
  /** Default `bench-flat`, the bench config's property of `generic-demo`. */
  propertyId?: string;
  /** Default `2027-03-04`; the stay starts on 2027-03-01. */
  checkOutDate?: string;
  guest: Record<string, string>;
}

/**
 * One generic connection, one property, routed to Minut only (its sandbox limits set per stack);
 * a second connection (`generic-other`, same secret, its own property) for the burst figure.
 */
export function benchConfig(topLevel: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'guest-sync-bench-'));
  const path = join(dir, 'config.json');
  writeFileSync(
    path,
    JSON.stringify({
      connections: {
        'generic-demo': {
          pms: 'generic',
          secret: 'generic-demo',
          properties: { 'bench-flat': { timeZone: 'Europe/Berlin', targets: { minut: { homeId: 'home_demo_city' } } } },
        },
        'generic-other': {
          pms: 'generic',
          secret: 'generic-demo',
          properties: { 'other-flat': { timeZone: 'Europe/Berlin', targets: { minut: { homeId: 'home_demo_seaside' } } } },
        },
      },
      targets: { minut: { baseUrl: 'http://127.0.0.1:4010/minut/v8', credentials: 'minut', requestsPerSecond: 1000 } },
      ...topLevel,
    }),
  );
  return path;
}

let sequence = 0;

/** A signed generic-format delivery about one reservation, each with a newer version than the last. */
export function genericDelivery(reservation: BenchReservation): { body: string; headers: Record<string, string> } {
  sequence++;
  const body = JSON.stringify({
    type: 'reservation.upserted',
    reservation: {
      id: reservation.id,
      propertyId: reservation.propertyId ?? 'bench-flat',
      status: 'confirmed',
      checkInDate: '2027-03-01',
      checkOutDate: reservation.checkOutDate ?? '2027-03-04',
      version: sequence,
      guest: reservation.guest,
    },
  });
  return { body, headers: { 'content-type': 'application/json', ...signStandardWebhook(SECRET, `bench-${sequence}`, Math.floor(Date.now() / 1000), body) } };
}

/** POSTs the delivery to the local stack's webhook front; its answer time in ms. Anything but 202 throws. */
export async function postGeneric(stack: LocalStack, reservation: BenchReservation, connectionId = 'generic-demo'): Promise<number> {
  const { body, headers } = genericDelivery(reservation);
  const started = performance.now();
  const response = await fetch(`${stack.urls.webhooks}/webhooks/${connectionId}`, { method: 'POST', headers, body });
  await response.arrayBuffer();
  if (response.status !== 202) throw new Error(`bench webhook answered ${response.status}`);
  return performance.now() - started;
}
