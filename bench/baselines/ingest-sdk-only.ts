import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/**
 * The ingest baseline: a handler that only makes ingest's SDK calls on a first request (read the
 * active config from the table, send one SQS message), on the same endpoints.
 */
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
export const handler = async (event: { body?: string }) => {
  await dynamodb.send(new GetItemCommand({ TableName: process.env.GUEST_SYNC_TABLE, Key: { pk: { S: 'config' }, sk: { S: 'active' } } }));
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.GUEST_SYNC_QUEUE_URL, MessageBody: event.body ?? '{}', MessageGroupId: 'g', MessageDeduplicationId: String(Date.now()) }));
  return { statusCode: 202, body: '{}' };
};
