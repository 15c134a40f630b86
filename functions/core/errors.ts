/**
 * guest-sync's errors share one base, and each keeps the error it wraps as `cause`, so a
 * wrapped failure still shows the original stack. Whether a failure is worth retrying is
 * decided in one place: `classify` in failure.ts.
 */
export class GuestSyncError extends Error {
  // Each class names itself: the bundles are minified without keeping class names.
  override name = 'GuestSyncError';
}

/**
 * What a webhook sender is told when its delivery is refused: an HTTP status, a stable
 * machine-readable code, and one readable sentence.
 */
export class WebhookError extends GuestSyncError {
  override name = 'WebhookError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A target or PMS call that may succeed later (429, 5xx, network, timeout): retry with backoff. */
export class RetryableError extends GuestSyncError {
  override name = 'RetryableError';
  constructor(
    message: string,
    /** Seconds the remote asked us to wait (Retry-After), if it said. */
    readonly retryAfterSeconds?: number,
    readonly code = 'retryable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A definite "no" from a target (a documented 4xx other than 429): record it against the content and move on. */
export class PermanentError extends GuestSyncError {
  override name = 'PermanentError';
  constructor(
    message: string,
    /** The target's own error key (e.g. Minut `error_key`) or our code. */
    readonly code: string,
    readonly statusCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
