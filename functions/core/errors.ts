/**
 * What a webhook sender is told when its delivery is refused: an HTTP status, a stable
 * machine-readable code, and one readable sentence.
 */
export class WebhookError extends Error {
  override readonly name = 'WebhookError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A target or PMS call that may succeed later (429, 5xx, network): retry with backoff. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(
    message: string,
    /** Seconds the remote asked us to wait (Retry-After), if it said. */
    readonly retryAfterSeconds?: number,
    readonly code = 'retryable',
  ) {
    super(message);
  }
}

/** A target call that will not succeed by retrying (4xx other than 429): record it and move on. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(
    message: string,
    /** The target's own error key (e.g. Minut `error_key`) or our code. */
    readonly code: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
