import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/** The ingest baseline: a handler that only makes ingest's SDK call (one SQS send). */
const sqs = new SQSClient({});
export const handler = async (event: { body?: string }) => {
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.GUEST_SYNC_QUEUE_URL, MessageBody: event.body ?? '{}', MessageGroupId: 'g', MessageDeduplicationId: String(Date.now()) }));
  return { statusCode: 202, body: '{}' };
};
