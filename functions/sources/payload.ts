import type { z } from 'zod';
import { WebhookError } from '../core/errors.ts';

/** Parses a payload with zod; a failure becomes a 400 naming the first bad field. */
export function parsePayload<T extends z.ZodType>(schema: T, body: unknown, prefix = ''): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.') || 'body';
  const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
  throw new WebhookError(
    400,
    missing ? 'missing_field' : 'invalid_field',
    missing ? `The field ${path} is required.` : `The field ${path} is invalid: ${issue.message.toLowerCase()}.`,
  );
}

export function invalidPayload(message: string): WebhookError {
  return new WebhookError(400, 'invalid_payload', message);
}
