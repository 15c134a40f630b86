import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deduplicationId, messageGroupId } from '../../functions/core/queue.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { runCli } from '../support/cli.ts';
import { hostawayDelivery, SEASIDE_HOME } from '../support/hostaway.ts';
import { queueDepth, sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

/**
 * The operator CLI, end to end: the real `bin/guest-sync.js` in its own process, against a
 * running local stack over its endpoints, exactly as `npx guest-sync` runs after `npm start`.
 */
let stack: LocalStack;
beforeAll(async () => {
  // maxReceiveCount 1: a message that fails twice lands in the DLQ quickly. No config cache, so a
  // pushed config is read on the next message.
  stack = await startTestStack({ maxReceiveCount: 1, env: { GUEST_SYNC_CONFIG_CACHE_SECONDS: '0' } });
});
afterAll(async () => {
  await stack?.stop();
});

const CITY_HOME = 'home_demo_city';
const guestsNamed = (name: string, home = SEASIDE_HOME) => stack.sandbox.minut.guests(home).filter((g) => g.name === name);

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('guest-sync CLI against the local stack', () => {
  it('prints help for every command', async () => {
    for (const command of [['status'], ['replay-dlq'], ['resync'], ['config', 'check'], ['config', 'push']]) {
      const run = await runCli(stack, [...command, '--help']);
      expect(run.code, command.join(' ')).toBe(0);
      expect(run.stdout).toContain(`Usage: guest-sync ${command.join(' ')}`);
    }
  });

  it('replays a message forced into the DLQ, with a fresh deduplication id, and it syncs; status shows it', async () => {
    // Minut is down long enough for the message to exhaust its receives and land in the DLQ.
    stack.sandbox.minut.failNext({ status: 503, count: 1000, pathIncludes: '/guests' });
    const delivery = hostawayDelivery('reservation.created', { id: 790001, guestName: 'Dana Letterman', guestFirstName: 'Dana', guestLastName: 'Letterman' });
    const accepted = await sendHostaway(stack, delivery);
    expect(accepted.status).toBe(202);
    await waitFor(async () => (await queueDepth(stack, stack.dlqUrl)) === 1, 'the message to reach the DLQ');
    await stack.drain();
    expect(guestsNamed('Dana Letterman')).toHaveLength(0);

    // A message of another connection, which `--connection` leaves where it is.
    const other = { v: 2, kind: 'resync', connectionId: 'other-connection', reservationId: 'r1', requestedAt: Date.now(), reason: 'operator' };
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.dlqUrl,
        MessageBody: JSON.stringify(other),
        MessageGroupId: messageGroupId('other-connection', 'r1'),
        MessageDeduplicationId: deduplicationId('x', 'r1'),
      }),
    );

    const failedStatus = await runCli(stack, ['status', 'hostaway-demo', '790001']);
    expect(failedStatus.code).toBe(0);
    expect(failedStatus.stdout).toMatch(/minut\s+retrying/);
    expect(failedStatus.stdout).toContain('last error: http_503 (retrying)');

    stack.sandbox.minut.reset(); // Minut is back
    // Well within the FIFO queue's 5-minute deduplication window of the first send, a replay
    // with the original deduplication id is dropped silently:
    const [dead] = (await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.dlqUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 0 }))).Messages ?? [];
    expect(JSON.parse(dead!.Body!)).toMatchObject({ kind: 'reservation', reservation: { reservationId: '790001' } });
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrl,
        MessageBody: dead!.Body!,
        MessageGroupId: messageGroupId('hostaway-demo', '790001'),
        MessageDeduplicationId: deduplicationId(accepted.body.deliveryId as string, '790001'),
      }),
    );
    await stack.drain();
    expect(guestsNamed('Dana Letterman')).toHaveLength(0);
    // so the CLI gives each replayed message a fresh one.
    const replay = await runCli(stack, ['replay-dlq', '--connection', 'hostaway-demo']);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('replayed 1, left in the DLQ: 1 of other connections, 0 unreadable');
    await stack.drain();
    expect(guestsNamed('Dana Letterman')).toHaveLength(1);
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(1);

    const synced = await runCli(stack, ['status', 'hostaway-demo', '790001']);
    expect(synced.code).toBe(0);
    const guestId = guestsNamed('Dana Letterman')[0]!.guest_id;
    expect(synced.stdout).toMatch(new RegExp(`minut\\s+synced\\s+homeId=${SEASIDE_HOME} guestId=${guestId}`));
    expect(synced.stdout).toContain('status       confirmed');
    // The operator sees initials, never the name, email or phone.
    expect(synced.stdout).toContain('D. L.');
    expect(synced.stdout).not.toMatch(/Dana|Letterman/);
    const fixtureEmail = (delivery.data as Record<string, unknown>).guestEmail as string;
    expect(synced.stdout).not.toContain(fixtureEmail);

    const json = await runCli(stack, ['status', 'hostaway-demo', '790001', '--json']);
    expect(JSON.parse(json.stdout).targets).toEqual(expect.arrayContaining([expect.objectContaining({ target: 'minut', status: 'synced', lastError: null, ids: { homeId: SEASIDE_HOME, guestId } })]));

    // The rest of the DLQ, without a filter.
    const rest = await runCli(stack, ['replay-dlq']);
    expect(rest.stdout).toContain('replayed 1, left in the DLQ: 0 of other connections, 0 unreadable');
    await stack.drain();
    expect(await queueDepth(stack, stack.dlqUrl)).toBe(0);
  });

  it('status says so for a reservation it has never seen', async () => {
    const run = await runCli(stack, ['status', 'hostaway-demo', 'never-seen']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('No stored state for hostaway-demo/never-seen');
  });

  it('resync drives the targets to the stored state again: one reservation, then a property', async () => {
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 790002, guestName: 'Resync One' }));
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 790003, guestName: 'Resync Two' }));
    await stack.drain();
    expect(guestsNamed('Resync One')).toHaveLength(1);

    // Someone deleted the guests in Minut. A plain resync trusts the stored state (nothing changed)...
    stack.sandbox.minut.reset();
    const plain = await runCli(stack, ['resync', 'hostaway-demo', '790002']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('enqueued 1 resync message(s) for hostaway-demo, reservation 790002');
    await stack.drain();
    expect(guestsNamed('Resync One')).toHaveLength(0);
    expect(stack.sandbox.minut.requestLog()).toEqual([]);

    // ...a forced one calls the target again and puts the guest back.
    const one = await runCli(stack, ['resync', 'hostaway-demo', '790002', '--force']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('enqueued 1 forced resync message(s) for hostaway-demo, reservation 790002');
    await stack.drain();
    expect(guestsNamed('Resync One')).toHaveLength(1);
    expect(guestsNamed('Resync Two')).toHaveLength(0);

    const property = await runCli(stack, ['resync', 'hostaway-demo', '--property', '219407', '--force']);
    expect(property.code).toBe(0);
    // 790001 (from the DLQ test), 790002, 790003: every stored reservation of the property.
    expect(property.stdout).toMatch(/enqueued [3-9] forced resync message\(s\) for hostaway-demo, property 219407/);
    await stack.drain();
    expect(guestsNamed('Resync Two')).toHaveLength(1);
    expect(guestsNamed('Resync One')).toHaveLength(1);

    const unknown = await runCli(stack, ['resync', 'hostaway-demo', 'never-seen']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('nothing to resync');
  });

  it('config check passes with good credentials and names a wrong one', async () => {
    const good = await runCli(stack, ['config', 'check']);
    expect(good.stdout).toContain('config: ok');
    for (const target of Object.keys(stack.config.targets)) expect(good.stdout).toMatch(new RegExp(`target ${target}: credentials "[^"]+" ok`));
    expect(good.stdout).toContain('connection hostaway-demo (hostaway): secret "hostaway-demo" ok');
    // Guesty allows only a few token grants a day: present, not spent on a check.
    expect(good.stdout).toContain('connection guesty-demo (guesty): API credentials "guesty-demo-api" present, not checked');
    for (const pms of ['smily', 'lodgify', 'hospitable', 'smoobu', 'apaleo', 'mews', 'cloudbeds']) {
      expect(good.stdout).toContain(`connection ${pms}-demo (${pms}): API credentials "${pms}-demo-api" ok (accepted)`);
    }
    expect(good.code).toBe(0);

    // Each hotel PMS's reader proves its credentials with a read, and a refused one names its secret.
    const wrongPms = await runCli(stack, ['config', 'check'], {
      GUEST_SYNC_SECRET_APALEO_DEMO_API: JSON.stringify({ clientId: 'demo-apaleo-client', clientSecret: 'wrong' }),
      GUEST_SYNC_SECRET_MEWS_DEMO_API: JSON.stringify({ clientToken: 'demo-mews-client-token', accessTokens: { '851df8c8-90f2-4c4a-8e01-a4fc46b25178': 'wrong' } }),
      GUEST_SYNC_SECRET_CLOUDBEDS_DEMO_API: JSON.stringify({ apiKey: 'cbat_wrong' }),
    });
    expect(wrongPms.code).toBe(1);
    expect(wrongPms.stdout).toMatch(/connection apaleo-demo \(apaleo\): API credentials "apaleo-demo-api" FAILED: .*refused the client credentials \(401\)/);
    expect(wrongPms.stdout).toMatch(/connection mews-demo \(mews\): API credentials "mews-demo-api" FAILED: .*refused the credentials "mews-demo-api" \(401\)/);
    expect(wrongPms.stdout).toMatch(/connection cloudbeds-demo \(cloudbeds\): API credentials "cloudbeds-demo-api" FAILED: cloudbeds refused the credentials "cloudbeds-demo-api" \(401\)/);
    expect(wrongPms.stdout).toContain('3 check(s) failed');

    const wrong = await runCli(stack, ['config', 'check'], {
      GUEST_SYNC_SECRET_MINUT: JSON.stringify({ clientId: 'demo-minut-client', clientSecret: 'not-the-secret' }),
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/target minut: credentials "minut" FAILED: .*refused the client credentials "minut" \(401\)/);
    expect(wrong.stdout).toContain('1 check(s) failed');

    // Every target's check names its secret: keys that are not (or no longer) valid.
    const envName = (ref: string) => `GUEST_SYNC_SECRET_${ref.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    const refs = { recepai: stack.config.targets.recepai!.credentials, kasify: stack.config.targets.kasify!.credentials, hostelmate: stack.config.targets.hostelmate!.credentials };
    const wrongKeys = await runCli(stack, ['config', 'check'], {
      [envName(refs.recepai)]: JSON.stringify({ apiKey: 'pms_live_notavalidkey000000000000000000000' }),
      [envName(refs.kasify)]: JSON.stringify({ token: 'kas_pat_not-a-valid-token' }),
      [envName(refs.hostelmate)]: JSON.stringify({ apiKey: 'hm_live_not-a-valid-key' }),
    });
    expect(wrongKeys.code).toBe(1);
    expect(wrongKeys.stdout).toContain(`target recepai: credentials "${refs.recepai}" FAILED: hotel city-hotel: RecepAI refused the credentials "${refs.recepai}" (401)`);
    expect(wrongKeys.stdout).toContain(`; hotel seaside-hotel: RecepAI refused the credentials "${refs.recepai}" (401)`);
    expect(wrongKeys.stdout).toMatch(new RegExp(`target kasify: credentials "${refs.kasify}" FAILED: Kasify refused the credentials "${refs.kasify}" \\(40[13]\\)`));
    expect(wrongKeys.stdout).toMatch(new RegExp(`target hostelmate: credentials "${refs.hostelmate}" FAILED: HostelMate refused the credentials "${refs.hostelmate}" \\(40[13]\\)`));
    expect(wrongKeys.stdout).toContain('target minut: credentials "minut" ok');
    expect(wrongKeys.stdout).toContain('3 check(s) failed');

    // RecepAI keys are per hotel: one hotel's key does not prove (or work for) another's.
    const oneHotel = await runCli(stack, ['config', 'check'], { [envName(refs.recepai)]: JSON.stringify({ apiKey: 'pms_live_5eas1de0000000000000000000000000' }) });
    expect(oneHotel.code).toBe(1);
    expect(oneHotel.stdout).toContain(`target recepai: credentials "${refs.recepai}" FAILED: hotel city-hotel: RecepAI refused the credentials "${refs.recepai}" (401)`);
    expect(oneHotel.stdout).not.toContain('hotel seaside-hotel:');

    // HostelMate keys are per property: a secret with keys for other properties only does not serve ours.
    const otherHostel = await runCli(stack, ['config', 'check'], { [envName(refs.hostelmate)]: JSON.stringify({ properties: { 'another-hostel': 'hm_live_demo000000000000000000000000' } }) });
    expect(otherHostel.code).toBe(1);
    expect(otherHostel.stdout).toContain(`target hostelmate: credentials "${refs.hostelmate}" FAILED: default key: the secret has no key for it`);

    const missing = await runCli(stack, ['config', 'check'], { GUEST_SYNC_SECRETS_FILES: '' });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/connection hostaway-demo \(hostaway\): secret "hostaway-demo" FAILED: secret "hostaway-demo" is not set/);
  });

  it('config push refuses an invalid file, and a valid one adds a property without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-sync-cli-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...stack.config, retentionDays: 0 }));
    const refused = await runCli(stack, ['config', 'push', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('refused');
    expect(refused.stdout).toContain('retentionDays');
    expect(await storeFor(stack).getSnapshot({ connectionId: 'hostaway-demo', reservationId: '790010' })).toBeUndefined();

    // Not configured yet: parked as unrouted.
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 790010, listingMapId: 555002, guestName: 'New Property' }));
    await stack.drain();
    expect(await storeFor(stack).getSnapshot({ connectionId: 'hostaway-demo', reservationId: '790010' })).toMatchObject({ unrouted: true });
    expect((await runCli(stack, ['status', 'hostaway-demo', '790010'])).stdout).toContain('UNROUTED');

    const config = structuredClone(stack.config);
    config.connections['hostaway-demo']!.properties['555002'] = {
      timeZone: 'Europe/Berlin',
      checkInTime: '15:00',
      checkOutTime: '11:00',
      targets: { minut: { homeId: CITY_HOME, nativeIntegration: false } },
    };
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(config));
    const pushed = await runCli(stack, ['config', 'push', good]);
    expect(pushed.code).toBe(0);
    const connections = Object.keys(stack.config.connections).length;
    const properties = Object.values(stack.config.connections).reduce((n, c) => n + Object.keys(c.properties).length, 0) + 1;
    expect(pushed.stdout).toMatch(new RegExp(`pushed config [0-9a-f]+ \\(${connections} connection\\(s\\), ${properties} properties\\)`));

    const check = await runCli(stack, ['config', 'check']);
    expect(check.stdout).toContain('config: ok (pushed config');
    // Status reads the config in force: no longer unrouted, but waiting for a resync.
    const waiting = (await runCli(stack, ['status', 'hostaway-demo', '790010'])).stdout;
    expect(waiting).not.toContain('UNROUTED');
    expect(waiting).toContain('configured since this event was stored');

    // A new connection names a secret the stack does not have yet: pushed, with a warning.
    const withConnection = structuredClone(config);
    withConnection.connections['hostaway-second'] = { pms: 'hostaway', secret: 'hostaway-second', properties: {} };
    const second = join(dir, 'second.json');
    writeFileSync(second, JSON.stringify(withConnection));
    const warned = await runCli(stack, ['config', 'push', second]);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toContain('warning: new secret name(s) "hostaway-second": run cdk deploy');
    expect((await runCli(stack, ['config', 'push', good])).stdout).not.toContain('warning');

    // The running functions use it: the parked reservation is recovered by a resync, a new one syncs directly.
    expect((await runCli(stack, ['resync', 'hostaway-demo', '--property', '555002'])).code).toBe(0);
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 790011, listingMapId: 555002, guestName: 'New Property Two' }));
    await stack.drain();
    expect(guestsNamed('New Property', CITY_HOME)).toHaveLength(1);
    expect(guestsNamed('New Property Two', CITY_HOME)).toHaveLength(1);
    const recovered = (await runCli(stack, ['status', 'hostaway-demo', '790010'])).stdout;
    expect(recovered).not.toMatch(/UNROUTED|configured since/);
    expect(recovered).toMatch(/minut\s+synced/);

    // Reset: back to the deployed file.
    expect((await runCli(stack, ['config', 'reset'])).code).toBe(0);
    expect((await runCli(stack, ['config', 'check'])).stdout).toContain('config: ok (deployed file');
  });
});
