import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * The sync baseline: a handler that makes only the SDK calls sync makes on its first message, a
 * new reservation for Minut with its token already stored (the bench checks that both make the
 * same calls), on keys of its own and with items of about the same size; the SQS client is
 * loaded as sync's is. What sync does between these calls (and its call to Minut) is its own.
 */
const dynamodb = new DynamoDBClient({});
export const sqs = new SQSClient({});
export const handler = async (event: { Records: Array<{ messageId: string; body: string }> }) => {
  const TableName = process.env.GUEST_SYNC_TABLE;
  const now = Date.now();
  const ttl = { N: String(Math.floor(now / 1000) + 3600) };
  for (const record of event.Records) {
    const pk = { S: `bench#${record.messageId}` };
    const get = (key: string) => dynamodb.send(new GetItemCommand({ TableName, Key: { pk: { S: `bench#${key}` }, sk: { S: key } }, ConsistentRead: true }));
    // The active config; the reservation's target states beside the guest's email key; the snapshot.
    await get('config');
    await Promise.all([dynamodb.send(new QueryCommand({ TableName, ConsistentRead: true, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': pk, ':prefix': { S: 'TARGET#' } } })), get('key')]);
    await dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: { pk, sk: { S: 'SNAPSHOT' }, version: { N: '1' }, contentHash: { S: record.messageId }, receivedAt: { N: String(now) }, ttl, data: { S: record.body } },
        ConditionExpression: '(attribute_not_exists(pk) OR version < :v OR (version = :v AND contentHash <> :h AND (attribute_not_exists(receivedAt) OR receivedAt <= :r))) AND attribute_not_exists(tombstone)',
        ExpressionAttributeValues: { ':v': { N: '1' }, ':h': { S: record.messageId }, ':r': { N: String(now) } },
      }),
    );
    // The target's circuit and token; a worker's share of the account's rate: counted, admitted with its claim, counted again.
    await get('circuit');
    await get('token');
    const worker = { pk: { S: 'bench#rate' }, sk: { S: `WORKER#${record.messageId}` } };
    await dynamodb.send(new UpdateItemCommand({ TableName, Key: worker, UpdateExpression: 'SET #until = :until, #ttl = :ttl', ExpressionAttributeNames: { '#until': 'until', '#ttl': 'ttl' }, ExpressionAttributeValues: { ':until': { N: String(now + 30_000) }, ':ttl': ttl } }));
    await dynamodb.send(new QueryCommand({ TableName, ConsistentRead: true, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': worker.pk } }));
    await dynamodb.send(new UpdateItemCommand({ TableName, Key: worker, UpdateExpression: 'SET admittedAt = :at', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':at': { N: String(now) } } }));
    await dynamodb.send(new QueryCommand({ TableName, ConsistentRead: true, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': worker.pk } }));
    // The target's state, after the create.
    await dynamodb.send(new PutItemCommand({ TableName, Item: { pk, sk: { S: 'TARGET#minut' }, ttl, data: { S: record.body.slice(0, 700) } } }));
  }
  return { batchItemFailures: [] };
};
