/**
 * Counts the functions built from source text (`new Function`, as zod's JIT does) until stopped:
 * all of them, or with `fromDir` only those built by code loaded from under it (a bundle).
 */
export function countCompiledFunctions(fromDir?: string): { stop: () => number } {
  const original = globalThis.Function;
  let count = 0;
  globalThis.Function = new Proxy(original, {
    construct(target, args: string[]) {
      if (fromDir === undefined || callerFiles().some((file) => file.startsWith(fromDir))) count++;
      return Reflect.construct(target, args) as object;
    },
  });
  return {
    stop: () => {
      globalThis.Function = original;
      return count;
    },
  };
}

/** How many functions `run` builds from source text. */
export function compiledDuring(run: () => void): number {
  const counter = countCompiledFunctions();
  let count: number;
  try {
    run();
  } finally {
    count = counter.stop(); // Function restored even when `run` throws
  }
  return count;
}

/** The files on the current stack as V8 sees them (vitest maps `error.stack` back to sources). */
function callerFiles(): string[] {
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, callSites) => callSites;
  try {
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder);
    return (holder.stack as NodeJS.CallSite[]).map((site) => site.getFileName() ?? '');
  } finally {
    Error.prepareStackTrace = prepare;
  }
}
