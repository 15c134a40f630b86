import { Webhook } from 'standardwebhooks';

/**
 * Signs a body the way a Standard Webhooks sender does (the generic source, Guesty): for the demo
 * deliveries, the bench and tests. Apart from the verifier so that ingest's bundle does not carry
 * the package.
 */
export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, rawBody: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': new Webhook(secret).sign(id, new Date(timestampSeconds * 1000), rawBody),
  };
}
