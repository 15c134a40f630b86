import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitReservation } from '../../functions/core/bounds.ts';
import { stableStringify } from '../../functions/core/hash.ts';
import { IngestMessage, messageGroupId, QUEUE_SCHEMA_VERSION, queueMessageSchema, readQueueMessage, SQS_MAX_BODY_BYTES, sqsEntry, sqsEntryProblem, type ReservationMessage } from '../../functions/core/queue.ts';
import { LIMITS, type Reservation } from '../../functions/core/reservation.ts';
import { aReservation } from '../support/reservation.ts';
import { withValueAt } from '../support/with-value-at.ts';

/** SQS's documented rules: group and deduplication ids of 1–128 ASCII letters, digits and punctuation. */
const SQS_ID = /^[\x21-\x7E]{1,128}$/;

const reservation: Reservation = aReservation({ connectionId: 'generic-demo', propertyId: 'city-flat', guest: { firstName: 'Ana', lastName: 'Silva', fullName: null, email: null, phone: null, language: null, country: null } });
const message = (r: Partial<Reservation>): ReservationMessage => ({ v: QUEUE_SCHEMA_VERSION, kind: 'reservation', connectionId: 'generic-demo', deliveryId: 'msg_1', receivedAt: 1, reservation: { ...reservation, ...r } });

describe('the queue adapter meets SQS rules whatever the PMS sent', () => {
  const ids = ['R-1', 'R 1 with spaces', 'Réservation-ü', '予約-42', 'x'.repeat(128), 'y'.repeat(500), 'sha256:abc', 'tab\there', '😀'];
  it.each(ids)('group id for reservation id %j is valid', (id) => {
    const entry = sqsEntry(message({ reservationId: id }));
    expect(entry.MessageGroupId).toMatch(SQS_ID);
    expect(entry.MessageDeduplicationId).toMatch(SQS_ID);
    expect(sqsEntryProblem(entry)).toBeUndefined();
  });

  it('never maps two different ids to one group, and keeps a plain id readable', () => {
    const groups = ids.map((id) => messageGroupId('generic-demo', id));
    expect(new Set(groups).size).toBe(ids.length);
    expect(messageGroupId('generic-demo', 'R-1')).toBe('generic-demo#R-1');
    // A PMS id that looks like our hash form is hashed too, so it cannot equal another id's group.
    const hashed = messageGroupId('generic-demo', 'R 1');
    expect(messageGroupId('generic-demo', hashed.slice('generic-demo#'.length))).not.toBe(hashed);
  });

  it('writes astral characters as JSON escapes (the local SQS refuses them raw) and reads them back unchanged', () => {
    const m = message({ guest: { ...reservation.guest, firstName: 'Zoë 😀 𝔘' } });
    const entry = sqsEntry(m);
    expect(entry.MessageBody).not.toMatch(/[\u{10000}-\u{10FFFF}]/u);
    expect(entry.MessageBody).toContain('\\ud83d\\ude00');
    const read = readQueueMessage(entry.MessageBody);
    expect('message' in read && read.message).toEqual(m);
  });

  it('flags what SQS would refuse', () => {
    const ok = sqsEntry(message({}));
    const cases: Array<[string, Partial<typeof ok>, RegExp]> = [
      ['U+FFFF in the body', { MessageBody: '"\uFFFF"' }, /characters/],
      ['a lone surrogate in the body', { MessageBody: '"\uD800"' }, /characters/],
      ['a body over 256 KiB', { MessageBody: 'x'.repeat(SQS_MAX_BODY_BYTES + 1) }, /262144 bytes/],
      ['a group id with a space', { MessageGroupId: 'a b' }, /MessageGroupId/],
      ['a group id over 128 characters', { MessageGroupId: 'g'.repeat(129) }, /MessageGroupId/],
      ['a deduplication id with non-ASCII', { MessageDeduplicationId: 'é' }, /MessageDeduplicationId/],
    ];
    for (const [name, patch, problem] of cases) expect(sqsEntryProblem({ ...ok, ...patch }), name).toMatch(problem);
  });

  it('keeps the largest reservation the bounds admit under SQS\'s 256 KB and DynamoDB\'s 400 KB', () => {
    // Worst case: every string at its cap, in the characters JSON and our escaping make longest.
    const worst = '\u0001'.repeat(LIMITS.nameLength); // "\u0001" is 6 bytes in JSON
    const astral = '😀'.repeat(LIMITS.idLength / 2); // 12 bytes per character once escaped
    const big = fitReservation(
      {
        ...reservation,
        reservationId: astral,
        propertyId: astral,
        unitId: astral,
        sourceStatus: worst.slice(0, LIMITS.textLength),
        guest: { firstName: worst, lastName: worst, fullName: worst, email: worst.slice(0, LIMITS.emailLength), phone: worst.slice(0, LIMITS.phoneLength), language: 'en', country: 'SE' },
        dropped: Array.from({ length: LIMITS.droppedEntries }, (_, i) => ({ field: `f${i}`.padEnd(LIMITS.textLength, 'x'), reason: 'r'.repeat(LIMITS.textLength) })),
      },
      { maxStayNights: LIMITS.maxStayNightsCeiling },
    );
    const entry = sqsEntry({ ...message(big), deliveryId: 'd'.repeat(LIMITS.idLength) });
    const bytes = Buffer.byteLength(entry.MessageBody);
    expect(bytes).toBeLessThan(SQS_MAX_BODY_BYTES / 4);
    // A stored item holds the snapshot, or a target state with its desired record, the applied
    // one and a create intent: at most a few copies of the reservation.
    expect(Buffer.byteLength(stableStringify(big)) * 4).toBeLessThan(400 * 1024);
  });
});

describe('schema versions: this release reads its own messages and the previous release\'s', () => {
  it('reads a v1 message (no party split) as v2', () => {
    const { party: _party, ...v1Reservation } = reservation;
    const read = readQueueMessage(JSON.stringify({ v: 1, kind: 'reservation', connectionId: 'generic-demo', deliveryId: 'msg_1', receivedAt: 1, reservation: v1Reservation }));
    expect('message' in read && read.message).toMatchObject({ v: 2, reservation: { party: { adults: null, children: null, infants: null } } });
  });

  it('gives the reason for a body it cannot read', () => {
    expect(readQueueMessage('not json')).toEqual({ error: 'the body is not JSON' });
    expect(readQueueMessage('{"v": 99, "kind": "reservation"}')).toMatchObject({ error: expect.stringMatching(/^v: /) });
    expect(readQueueMessage(JSON.stringify({ ...message({}), kind: 'teleport' }))).toMatchObject({ error: expect.stringMatching(/^kind: /) });
  });
});

describe("ingest's check of what it queues is sync's reading of it", () => {
  // Ingest checks its messages against the kinds a webhook can queue only (`IngestMessage`), so its
  // cold start does not build the other kinds; for those kinds the answer must be sync's own.
  const kinds = [
    message({}),
    { v: QUEUE_SCHEMA_VERSION, kind: 'reservation_ref', connectionId: 'guesty-demo', deliveryId: 'd-1', receivedAt: 1, reservationId: 'R-1', propertyId: 'p-1', partial: reservation, hints: { event: 'reservation.new' } },
    { v: QUEUE_SCHEMA_VERSION, kind: 'client_ref', connectionId: 'smily-demo', deliveryId: 'd-2', receivedAt: 1, clientId: 'c-1', hints: {} },
  ];
  const paths = [['kind'], ['v'], ['connectionId'], ['deliveryId'], ['receivedAt'], ['reservation', 'reservationId'], ['reservation', 'guest', 'email'], ['reservation', 'stay', 'checkInDate'], ['reservationId'], ['partial'], ['hints'], ['clientId'], ['unknownField']];

  it('accepts and refuses exactly what sync does, with the same value or the same first issue, as the worker reads a body', () => {
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.constantFrom(...paths), fc.oneof(fc.anything(), fc.constant(undefined), fc.constantFrom('resync', 'erase', 'reservation', 'client_ref', '')), (valid, path, value) => {
        const input = path.length > 1 && !(path[0]! in valid) ? valid : withValueAt(valid, path, value, value === undefined);
        const ingest = IngestMessage.safeParse(input);
        const sync = queueMessageSchema().safeParse(input);
        expect(ingest.success).toBe(sync.success);
        if (sync.success) expect(ingest.data).toEqual(sync.data);
        else if (['reservation', 'reservation_ref', 'client_ref'].includes((input as { kind?: unknown }).kind as string)) expect(ingest.error?.issues[0]).toEqual(sync.error.issues[0]);
        // What sync's worker reads from a body (it takes the webhook's kinds on their own) is the union's answer.
        const body = JSON.stringify(input);
        // (A v1 body is upgraded first: tested on its own below.)
        if (body === undefined || (input as { v?: unknown }).v === 1) return;
        const union = queueMessageSchema().safeParse(JSON.parse(body));
        const read = readQueueMessage(body);
        if (union.success) expect(read).toEqual({ message: union.data });
        else expect(read).toEqual({ error: `${union.error.issues[0]!.path.map(String).join('.') || 'body'}: ${union.error.issues[0]!.message}` });
      }),
      { numRuns: 500 },
    );
    for (const valid of kinds) expect(IngestMessage.safeParse(valid).success).toBe(true);
  });

  it('refuses a kind a webhook never queues, which sync reads', () => {
    const resync = { v: QUEUE_SCHEMA_VERSION, kind: 'resync', connectionId: 'generic-demo', reservationId: 'R-1', requestedAt: 1, reason: 'operator' };
    expect(queueMessageSchema().safeParse(resync).success).toBe(true);
    expect(IngestMessage.safeParse(resync).success).toBe(false);
  });
});
