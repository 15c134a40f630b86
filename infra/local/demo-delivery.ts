import type { PmsType } from '../../functions/core/config.ts';
import { rotatingValues } from '../../functions/core/secrets.ts';
import { signHospitable } from '../../functions/sources/hospitable.ts';
import { BasicSecret } from '../../functions/sources/http-basic.ts';
import { signLodgify } from '../../functions/sources/lodgify.ts';
import { signSmily } from '../../functions/sources/smily.ts';
import { signStandardWebhook } from './standard-webhooks-signer.ts';
import { urlTokensOf } from '../../functions/sources/url-token.ts';

/**
 * How each PMS authenticates a delivery, for the local tools (`npm run send`, the samples
 * `npm start` prints, the tests, the fuzz suite and the bench): the headers it sends and the
 * path after `/webhooks/`, which carries the connection's token for PMSs that sign nothing.
 * Built from the connection's secret as stored (its current value during a rotation).
 */
export function demoDelivery(pms: PmsType, connectionId: string, secret: unknown, body: string, options: { nowMs: number; id: string }): { path: string; headers: Record<string, string> } {
  const current = rotatingValues(secret)[0];
  const timestamp = Math.floor(options.nowMs / 1000);
  const headers: Record<string, string> = {};
  if (current && typeof current === 'object' && 'urlToken' in current) {
    return { path: `${connectionId}/${encodeURIComponent(urlTokensOf(current)[0]!)}`, headers };
  }
  switch (pms) {
    case 'generic':
      Object.assign(headers, signStandardWebhook(String(current), options.id, timestamp, body));
      break;
    case 'guesty':
      // Guesty delivers through Svix: the same signature under `svix-*` header names.
      for (const [name, value] of Object.entries(signStandardWebhook(String(current), options.id, timestamp, body))) headers[name.replace(/^webhook-/, 'svix-')] = value;
      break;
    case 'smily':
      headers['x-content-signature'] = signSmily(String(current), body);
      headers['user-agent'] = 'BookingSync Webhook Delivery';
      break;
    case 'lodgify':
      headers['ms-signature'] = signLodgify(String(Array.isArray(current) ? current[0] : current), body);
      break;
    case 'hospitable':
      headers.signature = signHospitable(String(current), body);
      break;
    default: {
      // HTTP Basic (Hostaway, or apaleo without a URL token).
      const { username, password } = BasicSecret.parse(current);
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
  }
  return { path: connectionId, headers };
}
