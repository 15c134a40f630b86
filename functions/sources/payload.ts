import type { z } from 'zod';
import { WebhookError } from '../core/errors.ts';

/** Parses a payload with zod; a failure becomes a 400 naming the first bad field. */
export function parsePayload<T extends z.ZodType>(schema: T, body: unknown, prefix = ''): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.') || 'body';
  if (valueAt(body, issue.path) === undefined) {
    throw new WebhookError(400, 'missing_field', `The field ${path} is required.`);
  }
  throw new WebhookError(400, 'invalid_field', `The field ${path} is invalid: ${issue.message.replace(/\.$/, '')}.`);
}

function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
