import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signHospitable } from '../../functions/sources/hospitable.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { captureOutput } from '../support/capture-output.ts';
import { example, HOSPITABLE_SECRET, SMOOBU_TOKEN, sendSmoobu } from '../support/pms.ts';
import { postWebhook, queueDepth, startTestStack } from '../support/stack.ts';

/**
 * The reusable delivery checks for PMSs that sign nothing: a token in the webhook URL (Smoobu's
 * demo connection) and a per-connection source-address allow-list. Every refusal is a 401 with
 * nothing queued, and the token never reaches a log line.
 */

// Every log line the handlers can write; hoisted so the Powertools logger is created at DEBUG.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

let output: ReturnType<typeof captureOutput>;
let stack: LocalStack;

// A second Smoobu connection (same secret) limited to Hospitable's delivery range; Hospitable limited to this machine.
const configPath = join(mkdtempSync(join(tmpdir(), 'guest-sync-allow-')), 'config.json');
const config = JSON.parse(readFileSync('config/guest-sync.example.json', 'utf8')) as { connections: Record<string, Record<string, unknown>> };
config.connections['smoobu-elsewhere'] = { ...config.connections['smoobu-demo'], allowedSourceIps: ['38.80.170.0/24'] };
config.connections['hospitable-demo']!.allowedSourceIps = ['38.80.170.0/24', '127.0.0.0/8', '::1/128'];
writeFileSync(configPath, JSON.stringify(config));

beforeAll(async () => {
  output = captureOutput();
  stack = await startTestStack({ configPath });
});
afterAll(async () => {
  await stack?.stop();
  output.stop();
});

const smoobuBody = JSON.stringify(example('smoobu-newReservation.json'));

describe('URL token (Smoobu)', () => {
  it.each(['query', 'path'] as const)('the right token as the %s is accepted', async (via) => {
    expect((await sendSmoobu(stack, smoobuBody, { via })).status).toBe(202);
    await stack.drain();
  });

  it.each([
    { name: 'no token at all', send: () => sendSmoobu(stack, smoobuBody, { token: null }), code: 'missing_token' },
    { name: 'an empty ?token=', send: () => sendSmoobu(stack, smoobuBody, { token: '' }), code: 'missing_token' },
    { name: 'a wrong token in the query', send: () => sendSmoobu(stack, smoobuBody, { token: `${SMOOBU_TOKEN}x` }), code: 'invalid_token' },
    { name: 'a wrong token in the path', send: () => sendSmoobu(stack, smoobuBody, { token: SMOOBU_TOKEN.slice(0, -1), via: 'path' }), code: 'invalid_token' },
    { name: 'the token in a header instead of the URL', send: () => postWebhook(stack, 'smoobu-demo', smoobuBody, { authorization: `Bearer ${SMOOBU_TOKEN}` }), code: 'missing_token' },
  ])('$name: 401 $code, nothing queued', async ({ send, code }) => {
    const reply = await send();
    expect(reply).toMatchObject({ status: 401, body: { error: { code } } });
    expect(reply.body.error!.message).not.toContain(SMOOBU_TOKEN);
    expect(await queueDepth(stack)).toBe(0);
  });

  it('the right token from an address outside the allow-list: 401 source_ip_not_allowed, nothing queued', async () => {
    for (const via of ['query', 'path'] as const) {
      const reply = await sendSmoobu(stack, smoobuBody, { via, connectionId: 'smoobu-elsewhere' });
      expect(reply).toMatchObject({ status: 401, body: { error: { code: 'source_ip_not_allowed' } } });
    }
    expect(await queueDepth(stack)).toBe(0);
  });
});

describe('source allow-list (Hospitable)', () => {
  const body = JSON.stringify(example('hospitable-reservation.created.json'));

  it('a signed delivery from an allowed address is accepted', async () => {
    expect((await postWebhook(stack, 'hospitable-demo', body, { signature: signHospitable(HOSPITABLE_SECRET, body) })).status).toBe(202);
    await stack.drain();
  });

  it('the allow-list does not replace the signature: a forged one is still 401', async () => {
    expect(await postWebhook(stack, 'hospitable-demo', body, { signature: signHospitable('not-the-secret', body) })).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
    expect(await queueDepth(stack)).toBe(0);
  });
});

describe('logs', () => {
  it('hold the connection id and the refusals, never the token', () => {
    const captured = output.text();
    expect(captured).toContain('"connectionId":"smoobu-demo"');
    expect(captured).toContain('source_ip_not_allowed');
    expect(captured).not.toContain(SMOOBU_TOKEN);
    expect(captured).not.toContain(SMOOBU_TOKEN.slice(0, -1));
  });
});
