import { createRequire } from 'node:module';

/**
 * dynalite (the local DynamoDB) parses every condition, update and key-condition expression with
 * a PEG parser that backtracks: about 3 ms of CPU for the snapshot's condition, more than the
 * rest of the request, and the local stack runs in one process. The parse of an expression
 * depends on the expression, the attribute names and the types of the attribute values (the
 * parser checks operand types), so it is kept per that shape, with the values left as holes that
 * each request fills with its own. BETWEEN compares its bounds and attribute_type reads its
 * value while parsing, so expressions with either are kept per exact values. A parse that fails
 * is never kept: the error comes from dynalite as before. Only the local stack uses this.
 */
export function cacheDynaliteParses(): void {
  const require = createRequire(import.meta.url);
  for (const name of ['conditionParser', 'updateParser', 'projectionParser']) {
    const parser = require(`dynalite/db/${name}`) as Parser & { [CACHED]?: true };
    if (parser[CACHED]) continue;
    parser.parse = keepingParses(parser.parse.bind(parser));
    parser[CACHED] = true;
  }
}

/** `parse` with its successful parses kept by shape (above); exported for the test. */
export function keepingParses(parse: Parse): Parse {
  const kept = new Map<string, Kept>();
  return (input, options) => {
    const context = options.context;
    const names = context.attrNames ?? {};
    const values = context.attrVals ?? {};
    const key = shapeKey(input, names, values);
    let entry = kept.get(key);
    if (!entry) {
      // Parsed against full "unused" sets, so what this expression uses is known whatever
      // other expression of the same request was parsed before it.
      const unusedNames: Record<string, boolean> = Object.fromEntries(Object.keys(names).map((k) => [k, true]));
      const unusedValues: Record<string, boolean> = Object.fromEntries(Object.keys(values).map((k) => [k, true]));
      const result = parse(input, { context: { ...context, unusedAttrNames: unusedNames, unusedAttrVals: unusedValues } });
      const usedNames = Object.keys(names).filter((k) => !(k in unusedNames));
      const usedValues = Object.keys(values).filter((k) => !(k in unusedValues));
      if (typeof result !== 'object' || result === null) {
        forget(context, usedNames, usedValues);
        return result;
      }
      const holes = new Map<unknown, string>(Object.entries(values).map(([k, v]) => [v, k]));
      entry = { template: toTemplate(result, holes), usedNames, usedValues };
      if (kept.size >= 2000) kept.clear();
      kept.set(key, entry);
    }
    forget(context, entry.usedNames, entry.usedValues);
    return fill(entry.template, values);
  };
}

export type Parse = (input: string, options: { context: ParseContext }) => unknown;

export interface ParseContext {
  attrNames?: Record<string, string>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames?: Record<string, boolean>;
  unusedAttrVals?: Record<string, boolean>;
  [other: string]: unknown;
}
interface Parser {
  parse: Parse;
}
interface Kept {
  template: unknown;
  usedNames: string[];
  usedValues: string[];
}

const CACHED = Symbol('guest-sync cached parses');
const HOLE = Symbol('attribute value');

function shapeKey(input: string, names: Record<string, string>, values: Record<string, unknown>): string {
  const exact = /between|attribute_type/i.test(input);
  const shape = Object.entries(values).map(([k, v]) => [k, exact ? v : Object.keys(v as object).join(',')]);
  return JSON.stringify([input, names, shape]);
}

/** What the request's own parse would have marked as used. */
function forget(context: ParseContext, names: string[], values: string[]): void {
  for (const k of names) delete context.unusedAttrNames?.[k];
  for (const k of values) delete context.unusedAttrVals?.[k];
}

function toTemplate(node: unknown, holes: Map<unknown, string>): unknown {
  const hole = holes.get(node);
  if (hole !== undefined) return { [HOLE]: hole };
  if (Array.isArray(node)) return node.map((item) => toTemplate(item, holes));
  if (typeof node !== 'object' || node === null) return node;
  const copy = Object.create(Object.getPrototypeOf(node) as object | null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(node)) copy[k] = toTemplate(v, holes);
  return copy;
}

function fill(node: unknown, values: Record<string, unknown>): unknown {
  if (Array.isArray(node)) return node.map((item) => fill(item, values));
  if (typeof node !== 'object' || node === null) return node;
  const hole = (node as { [HOLE]?: string })[HOLE];
  if (hole !== undefined) return values[hole];
  const copy = Object.create(Object.getPrototypeOf(node) as object | null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(node)) copy[k] = fill(v, values);
  return copy;
}
