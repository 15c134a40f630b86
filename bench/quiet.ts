/**
 * Runs `measure` with stdout swallowed: the handlers write their EMF metric lines there, as on
 * AWS, and they stay on while measured (their cost is part of the figure), but out of the terminal.
 */
export async function quietly<T>(measure: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await measure();
  } finally {
    process.stdout.write = write;
  }
}
