/** A copy of `root` with the value at `path` replaced, or removed: for tests that break one field at a time. */
export function withValueAt(root: unknown, path: (string | number)[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  if (remove) delete at[path.at(-1)!];
  else at[path.at(-1)!] = replacement;
  return copy;
}
