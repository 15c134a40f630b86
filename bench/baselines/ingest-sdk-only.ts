import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';

/**
 * The ingest baseline: a handler that makes only the SDK calls ingest makes on a first webhook
 * (read the active config from the table, send the message in a batch of one), on the same
 * endpoints. The bench checks that both make the same calls.
 */
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
export const handler = async (event: { body?: string }) => {
  await dynamodb.send(new GetItemCommand({ TableName: process.env.GUEST_SYNC_TABLE, Key: { pk: { S: 'bench#config' }, sk: { S: 'ACTIVE' } }, ConsistentRead: true }));
  const id = String(Date.now());
  await sqs.send(new SendMessageBatchCommand({ QueueUrl: process.env.GUEST_SYNC_QUEUE_URL, Entries: [{ Id: '0', MessageBody: event.body ?? '{}', MessageGroupId: 'g', MessageDeduplicationId: id }] }));
  return { statusCode: 202, body: '{}' };
};
