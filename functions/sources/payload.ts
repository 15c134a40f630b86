import type * as z from '../core/zod.ts';
import { WebhookError } from '../core/errors.ts';
import { hotParse } from '../core/zod-jit.ts';
import type { DroppedField } from '../core/reservation.ts';

/** Parses a payload with zod; a failure becomes a 400 naming the first bad field. */
export function parsePayload<T extends z.ZodMiniType>(schema: T, body: unknown, prefix = ''): z.infer<T> {
  const result = hotParse(schema, body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.') || 'body';
  if (valueAt(body, issue.path) === undefined) {
    throw new WebhookError(400, 'missing_field', `The field ${path} is required.`);
  }
  throw new WebhookError(400, 'invalid_field', `The field ${path} is invalid: ${issue.message.replace(/\.$/, '')}.`);
}

/**
 * An optional field a source reads as a string: absent or null is null; any other non-string is
 * dropped and recorded (bounds.ts then checks the string itself). Never a reason to refuse.
 */
export function optionalString(raw: unknown, field: string, dropped: DroppedField[]): string | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') return raw;
  dropped.push({ field, reason: 'not_a_string' });
  return null;
}

/** An optional count (party sizes): a number passes (bounds.ts drops one out of range); anything else is dropped. */
export function optionalNumber(raw: unknown, field: string, dropped: DroppedField[]): number | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number') return raw;
  dropped.push({ field, reason: 'not_a_number' });
  return null;
}

function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
