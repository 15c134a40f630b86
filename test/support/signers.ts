import { readFileSync } from 'node:fs';
import type { PmsType } from '../../functions/core/config.ts';
import { demoDelivery } from '../../infra/local/demo-delivery.ts';

/** The demo connection of each PMS in config/guest-sync.example.json. */
export const CONNECTION_OF: Record<string, string> = {
  hostaway: 'hostaway-demo',
  generic: 'generic-demo',
  guesty: 'guesty-demo',
  smily: 'smily-demo',
  lodgify: 'lodgify-demo',
  hospitable: 'hospitable-demo',
  smoobu: 'smoobu-demo',
  apaleo: 'apaleo-demo',
  mews: 'mews-demo',
  cloudbeds: 'cloudbeds-demo',
};
const SECRETS = JSON.parse(readFileSync(new URL('../../config/secrets.example.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const deliveryOf = (pms: string, body: string, nowMs: number, id: string) => demoDelivery(pms as PmsType, CONNECTION_OF[pms]!, SECRETS[CONNECTION_OF[pms]!], body, { nowMs, id });

/** How each PMS signs a body: the headers of a valid delivery (none for PMSs that carry a URL token instead). */
export const SIGNERS: Record<string, (body: string, nowMs: number, id: string) => Record<string, string>> = Object.fromEntries(
  Object.keys(CONNECTION_OF).map((pms) => [pms, (body: string, nowMs: number, id: string) => deliveryOf(pms, body, nowMs, id).headers]),
);

/** The URL token of each PMS whose deliveries carry one (the path's last segment or `?token=`). */
export const URL_TOKEN_OF: Record<string, string> = Object.fromEntries(
  Object.keys(CONNECTION_OF).flatMap((pms) => {
    const secret = SECRETS[CONNECTION_OF[pms]!];
    return secret && typeof secret === 'object' && 'urlToken' in secret ? [[pms, (secret as { urlToken: string }).urlToken]] : [];
  }),
);
