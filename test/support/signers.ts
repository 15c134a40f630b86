import { readFileSync } from 'node:fs';
import { signHospitable } from '../../functions/sources/hospitable.ts';
import { signLodgify } from '../../functions/sources/lodgify.ts';
import { signSmily } from '../../functions/sources/smily.ts';
import { signStandardWebhook } from '../../functions/sources/standard-webhooks.ts';

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

/** How each PMS signs a body: the headers of a valid delivery. */
export const SIGNERS: Record<string, (body: string, nowMs: number, id: string) => Record<string, string>> = {
  hostaway: () => {
    const { username, password } = SECRETS['hostaway-demo'] as { username: string; password: string };
    return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  },
  generic: (body, nowMs, id) => signStandardWebhook(SECRETS['generic-demo'] as string, id, Math.floor(nowMs / 1000), body),
  guesty: (body, nowMs, id) =>
    Object.fromEntries(Object.entries(signStandardWebhook(SECRETS['guesty-demo'] as string, id, Math.floor(nowMs / 1000), body)).map(([k, v]) => [k.replace('webhook-', 'svix-'), v])),
  smily: (body) => ({ 'x-content-signature': signSmily(SECRETS['smily-demo'] as string, body) }),
  lodgify: (body) => ({ 'ms-signature': signLodgify((SECRETS['lodgify-demo'] as string[])[0]!, body) }),
  hospitable: (body) => ({ signature: signHospitable(SECRETS['hospitable-demo'] as string, body) }),
  // These sign nothing: their token is in the URL (URL_TOKEN_OF).
  smoobu: () => ({}),
  apaleo: () => ({}),
  mews: () => ({}),
  cloudbeds: () => ({}),
};

/** The URL token of each PMS whose deliveries carry one (the path's last segment or `?token=`). */
export const URL_TOKEN_OF: Record<string, string> = Object.fromEntries(
  ['smoobu', 'apaleo', 'mews', 'cloudbeds'].map((pms) => [pms, (SECRETS[`${pms}-demo`] as { urlToken: string }).urlToken]),
);

