import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DynamoDbStore, tableDefinition } from '../../functions/core/dynamodb-store.ts';

/** The embedded DynamoDB (dynalite, in memory) with guest-sync's table, for tests that need only the store. */
export async function startEmbeddedStore(tableName = 'guest-sync'): Promise<{ store: DynamoDbStore; stop: () => Promise<void> }> {
  const server = dynalite({ createTableMs: 0 }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await client.send(new CreateTableCommand({ TableName: tableName, ...tableDefinition }));
  return {
    store: new DynamoDbStore(client, tableName),
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
