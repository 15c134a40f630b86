import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * The sync baseline: a handler that only makes SDK calls of the kinds sync makes on a first
 * request (a read and conditional writes on the table); the SQS client is loaded as sync's is.
 */
const dynamodb = new DynamoDBClient({});
export const sqs = new SQSClient({});
export const handler = async (event: { Records: Array<{ messageId: string }> }) => {
  const TableName = process.env.GUEST_SYNC_TABLE;
  for (const record of event.Records) {
    const Key = { pk: { S: `bench#${record.messageId}` }, sk: { S: 'baseline' } };
    await dynamodb.send(new GetItemCommand({ TableName, Key }));
    await dynamodb.send(new PutItemCommand({ TableName, Item: { ...Key, ttl: { N: String(Math.floor(Date.now() / 1000) + 3600) } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await dynamodb.send(new UpdateItemCommand({ TableName, Key, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '1' } } }));
  }
  return { batchItemFailures: [] };
};
