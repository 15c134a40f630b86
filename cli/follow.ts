/** How often the CLI reads a job's progress while it follows it. */
const POLL_MS = 500;

/**
 * Follows work the stack does (a backfill, a reconciliation, an erasure): reads it with `read`
 * every half second until `done` says it is over or `waitSeconds` have passed, and returns what
 * was read last. `seen` gets every reading (a progress bar).
 */
export async function follow<T>(read: () => Promise<T>, done: (value: T) => boolean, waitSeconds: number, seen?: (value: T) => void): Promise<T> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const value = await read();
    seen?.(value);
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** What the CLI prints of a job it followed: JSON, a line when the worker never picked it up, or its report. */
export function printJob<J>(kind: string, jobId: string, job: J | undefined, json: boolean | undefined, report: (job: J, out: (line: string) => void) => void, out: (line: string) => void): void {
  if (json) out(JSON.stringify({ jobId, job: job ?? null }, null, 2));
  else if (!job) out(`${kind} ${jobId}: not started yet (is the stack's sync worker running?)`);
  else report(job, out);
}
