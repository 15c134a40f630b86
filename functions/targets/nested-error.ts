import * as z from '../core/zod.ts';
import type { TargetName } from '../core/config.ts';
import { PermanentError } from '../core/errors.ts';
import type { HttpResponse } from '../core/http-client.ts';
import { count } from '../core/powertools.ts';

/** The error body Kasify and HostelMate share: `{"error": {"code", "message", "field"}}`. */
const NestedErrorBody = z.looseObject({ error: z.looseObject({ code: z.optional(z.string()), message: z.optional(z.string()), field: z.optional(z.string()) }) });

export function nestedErrorCode(response: HttpResponse): string | undefined {
  const body = NestedErrorBody.safeParse(response.json ?? {});
  return body.success ? body.data.error.code : undefined;
}

/**
 * The permanent error for a refused request with a nested error body, naming the field when the
 * target does. A 401/403 means the credential itself was refused: counted as an auth failure.
 */
export function nestedErrorRefusal(response: HttpResponse, target: { name: TargetName; label: string; credential: string }, what: string): PermanentError {
  const body = NestedErrorBody.safeParse(response.json ?? {});
  const error = body.success ? body.data.error : {};
  const code = error.code ?? `http_${response.status}`;
  if (response.status === 401 || response.status === 403) {
    count('TargetAuthFailure', { target: target.name });
    return new PermanentError(`${target.label} refused the ${target.credential} (${response.status} ${code})`, code, response.status);
  }
  const field = error.field ? ` (field ${error.field})` : '';
  return new PermanentError(`${target.label} refused to ${what}: ${response.status} ${code}${field}`, code, response.status);
}
