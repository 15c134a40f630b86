import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QUEUE_SCHEMA_VERSION, SqsQueue } from '../../functions/core/queue.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { hostawayDelivery } from '../support/hostaway.ts';
import { sendHostaway, startTestStack, storeFor } from '../support/stack.ts';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('resync', () => {
  it('recovers a reservation parked as unrouted once its property is configured', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'guest-sync-data-'));
    stack = await startTestStack({ dataDir });
    await sendHostaway(stack, hostawayDelivery('reservation.created', { id: 780001, listingMapId: 555001, guestName: 'Parked Guest' }));
    await stack.drain();
    expect(await storeFor(stack).getSnapshot({ connectionId: 'hostaway-demo', reservationId: '780001' })).toMatchObject({ unrouted: true });
    await stack.stop();

    // The operator adds the property and restarts (on AWS: deploys) with the same data.
    const config = JSON.parse(readFileSync('config/guest-sync.example.json', 'utf8')) as { connections: Record<string, { properties: Record<string, unknown> }> };
    config.connections['hostaway-demo']!.properties['555001'] = { timeZone: 'Europe/Berlin', targets: { minut: { homeId: 'home_demo_city' } } };
    const configPath = join(dataDir, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    stack = await startTestStack({ dataDir, configPath });
    expect(stack.sandbox.minut.guests('home_demo_city')).toHaveLength(0);

    await new SqsQueue(stack.sqs, stack.queueUrl).send([{ v: QUEUE_SCHEMA_VERSION, kind: 'resync', connectionId: 'hostaway-demo', reservationId: '780001', requestedAt: Date.now(), reason: 'operator' }]);
    await stack.drain();
    // Berlin is UTC+2 in July; the property defaults apply to Hostaway's 15 and 11 o'clock.
    expect(stack.sandbox.minut.guests('home_demo_city')).toEqual([expect.objectContaining({ name: 'Parked Guest', checkin_time: '2026-07-10T13:00:00.000Z' })]);
  });

  it('does nothing for a reservation it has never seen', async () => {
    stack = await startTestStack();
    await new SqsQueue(stack.sqs, stack.queueUrl).send([{ v: QUEUE_SCHEMA_VERSION, kind: 'resync', connectionId: 'hostaway-demo', reservationId: 'nope', requestedAt: Date.now(), reason: 'operator' }]);
    await stack.drain();
    expect(stack.sandbox.minut.counters().requests).toBe(0);
  });
});
