import { PermanentError, RetryableError, errorMessage } from './errors.ts';
import { SecretNotFoundError } from './secrets.ts';
import { StaleWriteError } from './store.ts';

/**
 * The one place that decides whether a failure is permanent (docs/failures.md has the table).
 * Permanent only when a vendor said no for good: a `PermanentError`, which the adapters raise
 * for their documented 4xx answers other than 429 (and other than the ones they resolve, such as
 * a duplicate that is adopted). Everything else is retried and never stored as a permanent
 * failure against the content: AWS errors (throttling, server faults, even a client error such
 * as a missing permission, which is ours to fix), secrets that cannot be read, network errors
 * and timeouts, 5xx and 429, a lost optimistic lock, and our own bugs.
 */
export interface Failure {
  permanent: boolean;
  /** Stable code for state, metrics and `status`. */
  code: string;
  message: string;
  /** Seconds the remote asked us to wait, if it said. */
  retryAfterSeconds?: number;
  /** The remote looks down (5xx, no answer): counts toward the circuit breaker. */
  outage: boolean;
}

/** AWS SDK v3 errors carry `$fault` ("client" | "server") and `$retryable` on the error itself. */
interface AwsSdkError {
  name: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
}

const AWS_THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'TransactionInProgressException',
]);

export function classify(error: unknown): Failure {
  const message = errorMessage(error);
  if (error instanceof PermanentError) return { permanent: true, code: error.code, message, outage: false };
  if (error instanceof RetryableError) {
    return {
      permanent: false,
      code: error.code,
      message,
      ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
      outage: error.code === 'network_error' || error.code === 'timeout' || /^http_5\d\d$/.test(error.code),
    };
  }
  if (error instanceof StaleWriteError) return { permanent: false, code: 'stale_state', message, outage: false };
  if (error instanceof SecretNotFoundError) return { permanent: false, code: 'secret_unavailable', message, outage: false };
  if (isAwsError(error)) {
    const throttled = AWS_THROTTLING.has(error.name) || error.$retryable?.throttling === true;
    // No answer from AWS after the SDK's attempts (runtime.ts: AWS_CALL_TIMEOUTS): ours, not the target's outage.
    const unanswered = error.name === 'TimeoutError' || isNetworkError(error);
    const code = throttled ? 'aws_throttled' : unanswered ? 'aws_unanswered' : error.$fault === 'server' ? 'aws_server_error' : 'aws_client_error';
    return { permanent: false, code, message: `${error.name}: ${message}`, outage: false };
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return { permanent: false, code: 'timeout', message, outage: true };
  if (error instanceof Error && isNetworkError(error)) return { permanent: false, code: 'network_error', message, outage: true };
  return { permanent: false, code: 'internal_error', message, outage: false };
}

function isAwsError(error: unknown): error is Error & AwsSdkError {
  return error instanceof Error && ('$fault' in error || '$metadata' in error);
}

/** Node's fetch and sockets: "fetch failed" with a system error as cause, or the system error itself. */
function isNetworkError(error: Error): boolean {
  const cause = (error as { cause?: unknown }).cause;
  const code = (error as { code?: unknown }).code ?? (cause as { code?: unknown } | undefined)?.code;
  return (error instanceof TypeError && error.message === 'fetch failed') || (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|UND_ERR_\w+)$/.test(code));
}
