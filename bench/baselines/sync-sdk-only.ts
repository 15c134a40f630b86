import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/** The sync baseline: a handler that only makes SDK calls of the kinds sync makes (DynamoDB, SQS). */
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
export const handler = async (event: { Records: Array<{ receiptHandle: string }> }) => {
  await dynamodb.send(new GetItemCommand({ TableName: process.env.GUEST_SYNC_TABLE, Key: { pk: { S: 'x' }, sk: { S: 'y' } } }));
  for (const record of event.Records) await sqs.send(new DeleteMessageCommand({ QueueUrl: process.env.GUEST_SYNC_QUEUE_URL, ReceiptHandle: record.receiptHandle }));
  return { batchItemFailures: [] };
};
