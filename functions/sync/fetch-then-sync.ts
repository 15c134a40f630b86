import { fitReservation } from '../core/bounds.ts';
import { RetryableError, errorMessage } from '../core/errors.ts';
import { classify } from '../core/failure.ts';
import { own } from '../core/own.ts';
import { count, logger } from '../core/powertools.ts';
import { QUEUE_SCHEMA_VERSION, reservationIdOf, type ClientRefMessage, type ReservationMessage, type ReservationRefMessage } from '../core/queue.ts';
import { Reservation } from '../core/reservation.ts';
import type { ReservationKey } from '../core/store.ts';
import type { FetcherLookup } from '../sources/fetcher.ts';
import type { MessageContext, SyncDeps, SyncOutcome } from './sync.ts';
import { recordTrace } from './trace.ts';

/**
 * The sync side of notify-then-fetch. A thin message is completed from the PMS API and then
 * handled exactly like a `reservation` message. A failed fetch is recorded next to the
 * reservation (`FETCH_ERROR`, with a ttl) and counted (`FetchFailed`), and the message is
 * retried with backoff; one that keeps failing reaches the DLQ, and that record says why.
 */

/** How long a fetch error stays readable: a little longer than the DLQ keeps the message (14 days). */
const FETCH_ERROR_TTL_SECONDS = 15 * 86_400;
/**
 * A PMS API that is down usually stays down for minutes, not seconds: back off 30 s, 1, 2, 4
 * min... (capped by the handler), so the 5 receives before the DLQ span several minutes.
 */
const FETCH_BACKOFF_BASE_SECONDS = 30;

export type ContinueWith = (message: ReservationMessage) => Promise<SyncOutcome>;

export async function fetchThenSync(
  message: ReservationRefMessage | ClientRefMessage,
  deps: SyncDeps & { fetchers?: FetcherLookup },
  continueWith: ContinueWith,
  context: MessageContext = {},
): Promise<SyncOutcome> {
  const connection = own(deps.config.connections, message.connectionId);
  const source = connection?.pms ?? 'unknown';
  const fetcher = deps.fetchers?.(message.connectionId);
  const key: ReservationKey = { connectionId: message.connectionId, reservationId: reservationIdOf(message) };
  const nothing: SyncOutcome = { snapshotChanged: false, unrouted: false, targets: [] };

  let fetched: Reservation[];
  try {
    if (!fetcher) throw new RetryableError(`connection "${message.connectionId}" has no PMS API to fetch from (is it still in the config, with "api"?)`, undefined, 'no_fetcher');
    if (message.kind === 'client_ref') {
      if (!fetcher.fetchClientReservations) throw new RetryableError(`${source} cannot resync a client's reservations`, undefined, 'no_fetcher');
      fetched = await fetcher.fetchClientReservations(message);
    } else {
      const stored = await deps.store.getSnapshot(key);
      const one = await fetcher.fetchReservation(message, stored?.reservation);
      // Never apply another booking's data under this one's key (a PMS or proxy answering for the wrong id).
      if (one && one.reservationId !== message.reservationId) throw new RetryableError(`${source}: the API answered another reservation than the one asked for`, undefined, 'invalid_response');
      fetched = one ? [one] : [];
    }
    // What the PMS API returns meets the same bounds as a webhook (a 400 here is a fetch error).
    fetched = fetched.map((reservation) => Reservation.parse(fitReservation(reservation, { maxStayNights: deps.config.maxStayNights })));
  } catch (error) {
    // Every fetch failure is retried (a PMS API that answers 404 just after a create, a 5xx, our
    // own misconfiguration); the FETCH_ERROR record and the DLQ say why when it never recovers.
    const classified = classify(error);
    const failed = error instanceof RetryableError ? error : new RetryableError(classified.message, classified.retryAfterSeconds, classified.code === 'internal_error' ? 'fetch_failed' : classified.code, { cause: error });
    count('FetchFailed', { source });
    logger.warn('fetch from the PMS API failed; the message will be retried', { source, code: failed.code, error: failed.message });
    let failures = 1;
    try {
      failures = await deps.store.recordFetchError(key, {
        source,
        code: failed.code,
        message: failed.message,
        deliveryId: message.deliveryId,
        at: deps.now(),
        ttl: Math.floor(deps.now() / 1000) + FETCH_ERROR_TTL_SECONDS,
      });
    } catch (recordError) {
      logger.error('could not record the fetch error', { error: errorMessage(recordError) });
    }
    if (message.kind === 'reservation_ref') {
      const step = { at: deps.now(), via: 'delivery' as const, deliveryId: message.deliveryId, ...(context.attempt !== undefined ? { attempt: context.attempt } : {}), snapshot: 'fetch_failed' as const, code: failed.code, targets: [] };
      await recordTrace(deps, key, step, Math.floor(deps.now() / 1000) + FETCH_ERROR_TTL_SECONDS);
    }
    const backoff = Math.max(failed.retryAfterSeconds ?? 0, FETCH_BACKOFF_BASE_SECONDS * 2 ** Math.min(failures - 1, 5));
    return { ...nothing, retry: new RetryableError(failed.message, backoff, failed.code) };
  }
  await deps.store.clearFetchError(key);

  if (fetched.length === 0) {
    logger.info('nothing to sync after the fetch', { kind: message.kind });
    return nothing;
  }
  // A copy read from the API is as fresh as the read: that is its time when it ties with another.
  const readAt = deps.now();
  const full = fetched.map((reservation): ReservationMessage => ({ v: QUEUE_SCHEMA_VERSION, kind: 'reservation', connectionId: message.connectionId, deliveryId: message.deliveryId, receivedAt: readAt, reservation }));
  // A client's reservations go to their own groups, each as a message of its own: every attempt
  // that syncs a reservation runs in its group, which a first create's held intent relies on
  // (sync.ts, FirstCreate). Their deduplication ids (delivery and reservation) make a resend harmless.
  if (message.kind === 'client_ref' && deps.queue) {
    await deps.queue.send(full);
    logger.info("client's reservations queued", { reservations: full.length });
    return nothing;
  }
  // Without a queue (a direct call: nothing else runs), one after the other, here.
  const outcome: SyncOutcome = { ...nothing };
  for (const next of full) {
    const result = await continueWith(next);
    outcome.snapshotChanged ||= result.snapshotChanged;
    outcome.unrouted ||= result.unrouted;
    outcome.targets.push(...result.targets);
    if (result.retry && !outcome.retry) outcome.retry = result.retry;
  }
  return outcome;
}
