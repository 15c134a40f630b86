import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../infra/bundling.ts';
import type { LocalStack } from '../../infra/local/stack.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `guest-sync <args>` as an operator would (`npx guest-sync`): the package's bin, in its own process. */
export function runCli(stack: LocalStack, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [join(projectRoot, 'bin', 'guest-sync.js'), ...args],
      { cwd: projectRoot, env: { ...process.env, ...stack.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}
