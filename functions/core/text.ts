/**
 * Text every system on the path can carry. SQS accepts #x9 | #xA | #xD | #x20–#xD7FF |
 * #xE000–#xFFFD | #x10000–#x10FFFF; JSON escapes the control characters below #x20, so
 * what no hop can carry is U+FFFE, U+FFFF and unpaired surrogates (not a character at all).
 * The rule: each of those becomes U+FFFD (the replacement character); everything else,
 * astral characters, right-to-left and zero-width marks included, is kept as sent.
 */
const UNCARRIABLE = /[\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const REPLACEMENT_CHARACTER = '\uFFFD';

export function carriable(text: string): string {
  return text.replace(UNCARRIABLE, REPLACEMENT_CHARACTER);
}

export function isCarriable(text: string): boolean {
  UNCARRIABLE.lastIndex = 0;
  return !UNCARRIABLE.test(text);
}

/** At most `max` UTF-16 units, never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max;
  return text.slice(0, cut);
}

/** Every string in a JSON value (keys too) made carriable; other values unchanged. */
export function carriableDeep<T>(value: T): T {
  // Nearly every delivery is carriable already: checking costs no copy, so only a bad one is rebuilt.
  return allCarriable(value) ? value : rebuildCarriable(value);
}

function allCarriable(value: unknown): boolean {
  if (typeof value === 'string') return isCarriable(value);
  if (Array.isArray(value)) return value.every(allCarriable);
  if (value !== null && typeof value === 'object') {
    for (const key in value) if (Object.hasOwn(value, key) && (!isCarriable(key) || !allCarriable((value as Record<string, unknown>)[key]))) return false;
  }
  return true;
}

function rebuildCarriable<T>(value: T): T {
  if (typeof value === 'string') return carriable(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => rebuildCarriable(item)) as T;
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a "__proto__" key stays a plain key.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [carriable(key), rebuildCarriable(item)])) as T;
  }
  return value;
}
