import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/core/config.ts';
import { CONFIG_ITEM_KEY, ConfigStore, configHash } from '../../functions/core/config-store.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { startTestStack } from '../support/stack.ts';

/** The active config item in the table (config without redeploy), on the local stack's DynamoDB. */
let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('ConfigStore', () => {
  it('uses the bundled file until a config is pushed, then the pushed one once the cache expires', async () => {
    let now = 1_000_000;
    const invalid: string[] = [];
    const store = new ConfigStore(stack.dynamodb, stack.tableName, stack.config, { cacheMs: 60_000, now: () => now, onInvalid: (m) => invalid.push(m) });
    const first = await store.current();
    expect(first).toMatchObject({ origin: 'bundled', hash: configHash(stack.config) });

    const withProperty = structuredClone(stack.config);
    withProperty.connections['hostaway-demo']!.properties['555003'] = { timeZone: 'Europe/Oslo', checkInTime: '15:00', checkOutTime: '11:00', targets: {} };
    // Another process (the CLI) pushes it.
    const pusher = new ConfigStore(stack.dynamodb, stack.tableName, stack.config);
    const hash = await pusher.push(withProperty, 'test', now);

    now += 59_000; // still cached
    expect((await store.current()).origin).toBe('bundled');
    now += 2_000;
    const second = await store.current();
    expect(second).toMatchObject({ origin: 'pushed', hash, pushedBy: 'test' });
    expect(second.config.connections['hostaway-demo']!.properties['555003']).toBeDefined();

    // An item that does not validate (written by hand) is never used: the last good config stays.
    await stack.dynamodb.send(
      new PutItemCommand({
        TableName: stack.tableName,
        Item: { pk: { S: CONFIG_ITEM_KEY.pk }, sk: { S: CONFIG_ITEM_KEY.sk }, data: { S: JSON.stringify({ connections: 'nope' }) }, hash: { S: 'x' }, pushedAt: { N: '1' } },
      }),
    );
    now += 61_000;
    expect(await store.current()).toMatchObject({ origin: 'pushed', hash });
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toContain('connections');

    await pusher.reset();
    now += 61_000;
    expect((await store.current()).origin).toBe('bundled');
  });

  it('refuses to push a config that does not validate', async () => {
    const store = new ConfigStore(stack.dynamodb, stack.tableName, stack.config);
    const broken = { ...stack.config, retentionDays: 0 };
    await expect(store.push(broken, 'test')).rejects.toThrow(ConfigError);
    expect((await store.read()).origin).toBe('bundled');
  });

  it('keeps the cached config through a read error, and fails without one', async () => {
    let now = 0;
    const store = new ConfigStore(stack.dynamodb, stack.tableName, stack.config, { cacheMs: 1_000, now: () => now });
    await store.current();
    const broken = new ConfigStore(stack.dynamodb, 'no-such-table', stack.config, { now: () => now });
    await expect(broken.current()).rejects.toThrow();
    // Same store, table gone for it: simulate by pointing a cached store at a missing table.
    (store as unknown as { tableName: string }).tableName = 'no-such-table';
    now += 5_000;
    expect((await store.current()).origin).toBe('bundled');
  });
});
