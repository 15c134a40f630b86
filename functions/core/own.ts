/**
 * Looks a key up among an object's OWN properties. Every record indexed by an outside string
 * (a connection id from the URL, a property id or status from a payload, a target name) goes
 * through here, so `__proto__`, `constructor` or `toString` never find the prototype's member.
 */
export function own<T>(record: Readonly<Record<string, T>> | undefined, key: string | null | undefined): T | undefined {
  if (record === undefined || key === null || key === undefined) return undefined;
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A JSON object (not null, not an array): what every payload reader checks before it looks inside. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
