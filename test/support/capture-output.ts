/**
 * Everything this process writes from now on (stdout, stderr and console), for tests that
 * search the logs: Powertools and our own lines alike. `stop()` puts the streams back.
 */
export function captureOutput(): { text: () => string; stop: () => void } {
  let captured = '';
  const restore: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => (stream.write = original));
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level];
    console[level] = (...args: unknown[]) => {
      captured += `${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`;
      original(...args);
    };
    restore.push(() => (console[level] = original));
  }
  return { text: () => captured, stop: () => restore.forEach((undo) => undo()) };
}
