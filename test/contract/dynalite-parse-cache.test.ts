import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cacheDynaliteParses } from '../../infra/local/dynalite-parse-cache.ts';

/**
 * The local DynamoDB keeps dynalite's expression parses by shape (infra/local/dynalite-parse-cache.ts).
 * Every request here must get what dynalite itself gives: the same parsed expressions with this
 * request's values, and the same refusal, whether the shape was parsed before or not.
 */
const require = createRequire(import.meta.url);
type Request = Record<string, unknown>;
interface Validations {
  validateExpressions(data: Request): string | undefined;
}
const PARSERS = ['conditionParser', 'updateParser', 'projectionParser'];

const S = (s: string) => ({ S: s });
const N = (n: number) => ({ N: String(n) });
const SNAPSHOT_CONDITION =
  '(attribute_not_exists(pk) OR version < :v OR (version = :v AND contentHash <> :h AND (attribute_not_exists(receivedAt) OR receivedAt <= :r))) AND attribute_not_exists(tombstone)';

// Each case: one request shape, with value sets that reuse its parse (and, for BETWEEN and
// attribute_type, values that change the answer).
const cases: [string, Request, Record<string, unknown>[]][] = [
  ['the snapshot condition', { ConditionExpression: SNAPSHOT_CONDITION }, [{ ':v': N(1), ':h': S('a'), ':r': N(5) }, { ':v': N(2), ':h': S('b'), ':r': N(6) }]],
  ['a condition without values', { ConditionExpression: 'attribute_not_exists(pk)' }, [{}]],
  [
    'an update and a condition sharing names',
    { UpdateExpression: 'SET #until = :until, #busy = :busy, #ttl = :ttl', ConditionExpression: '#until > :now', ExpressionAttributeNames: { '#until': 'until', '#busy': 'busy', '#ttl': 'ttl' } },
    [{ ':until': N(10), ':busy': { BOOL: true }, ':ttl': N(99), ':now': N(3) }, { ':until': N(20), ':busy': { BOOL: false }, ':ttl': N(98), ':now': N(4) }],
  ],
  [
    'if_not_exists and OR',
    { UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until, #ttl = if_not_exists(#ttl, :ttl)', ConditionExpression: '(attribute_not_exists(leaseUntil) OR leaseUntil < :now)', ExpressionAttributeNames: { '#ttl': 'ttl' } },
    [{ ':owner': S('w1'), ':until': N(5), ':ttl': N(7), ':now': N(1) }, { ':owner': S('w2'), ':until': N(6), ':ttl': N(8), ':now': N(2) }],
  ],
  ['ADD and REMOVE', { UpdateExpression: 'ADD hits :one REMOVE leaseOwner, leaseUntil' }, [{ ':one': N(1) }, { ':one': N(2) }]],
  ['a key condition', { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)' }, [{ ':pk': S('RES#a'), ':prefix': S('TARGET#') }, { ':pk': S('RES#b'), ':prefix': S('TARGET#') }]],
  ['a key condition and projection', { KeyConditionExpression: 'dueBucket = :bucket AND dueAt <= :now', ProjectionExpression: 'pk, sk, dueAt' }, [{ ':bucket': S('minut'), ':now': N(1) }, { ':bucket': S('kasify'), ':now': N(2) }]],
  ['BETWEEN, in order and reversed', { KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b' }, [{ ':pk': S('p'), ':a': S('a'), ':b': S('b') }, { ':pk': S('p'), ':a': S('b'), ':b': S('a') }]],
  ['attribute_type, a type and not one', { ConditionExpression: 'attribute_type(#a, :t)', ExpressionAttributeNames: { '#a': 'a' } }, [{ ':t': S('N') }, { ':t': S('X') }]],
  ['begins_with on a string, then on a number', { ConditionExpression: 'begins_with(#a, :p)', ExpressionAttributeNames: { '#a': 'a' } }, [{ ':p': S('x') }, { ':p': N(1) }, { ':p': S('y') }]],
  ['a value given and not used', { ConditionExpression: 'a = :a' }, [{ ':a': N(1), ':unused': N(2) }, { ':a': N(3), ':unused': N(4) }]],
  ['a name not given', { ConditionExpression: '#nope = :a' }, [{ ':a': N(1) }, { ':a': N(2) }]],
  ['a reserved word', { ConditionExpression: 'status = :s' }, [{ ':s': S('x') }, { ':s': S('y') }]],
  ['a syntax error', { ConditionExpression: 'a = = :v' }, [{ ':v': N(1) }, { ':v': N(2) }]],
  ['a filter with size', { KeyConditionExpression: 'pk = :pk', FilterExpression: 'size(#l) > :n', ExpressionAttributeNames: { '#l': 'list' } }, [{ ':pk': S('p'), ':n': N(1) }, { ':pk': S('q'), ':n': N(2) }]],
];

function requestOf(shape: Request, values: Record<string, unknown>): Request {
  return structuredClone({ ...shape, ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}) });
}
const PARSED = ['_condition', '_updates', '_keyCondition', '_filter', '_projection'];
function outcome(validations: Validations, request: Request) {
  const error = validations.validateExpressions(request);
  return { error, ...Object.fromEntries(PARSED.filter((k) => k in request).map((k) => [k, request[k]])) };
}

describe('the local DynamoDB, with its expression parses kept', () => {
  it('answers every request as dynalite does, and parses each shape once', () => {
    // Fresh copies of dynalite's modules, so this file sees them unwrapped.
    for (const id of Object.keys(require.cache)) if (id.includes('/node_modules/dynalite/')) delete require.cache[id];
    const validations = require('dynalite/validations') as Validations;
    const expected = cases.map(([, shape, valueSets]) => valueSets.map((values) => outcome(validations, requestOf(shape, values))));
    expect(expected.flat().filter((o) => o.error !== undefined).length).toBeGreaterThan(5); // the refusals are in the table

    let parses = 0;
    for (const name of PARSERS) {
      const parser = require(`dynalite/db/${name}`) as { parse: (...args: unknown[]) => unknown };
      const parse = parser.parse.bind(parser);
      parser.parse = (...args) => (parses++, parse(...args));
    }
    cacheDynaliteParses();

    for (const [i, [label, shape, valueSets]] of cases.entries()) {
      for (const [j, values] of valueSets.entries()) {
        expect(outcome(validations, requestOf(shape, values)), `${label}, values ${j}`).toEqual(expected[i]![j]);
      }
    }
    const parsesFirstRound = parses;
    for (const [i, [label, shape, valueSets]] of cases.entries()) {
      for (const [j, values] of valueSets.entries()) {
        expect(outcome(validations, requestOf(shape, values)), `${label}, values ${j} again`).toEqual(expected[i]![j]);
      }
    }
    // The second round parses only what is never kept (refusals) or is kept per value (BETWEEN, attribute_type).
    expect(parses - parsesFirstRound).toBeLessThan(parsesFirstRound / 2);
    const snapshotRequests = 200;
    const before = parses;
    for (let v = 0; v < snapshotRequests; v++) outcome(validations, requestOf({ ConditionExpression: SNAPSHOT_CONDITION }, { ':v': N(v), ':h': S(`h${v}`), ':r': N(v) }));
    expect(parses - before).toBe(0);
  });
});
