import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The example config with changes, written to a temp file for startTestStack({ configPath }). */
export function exampleConfigWith(change: (config: Record<string, any>) => void): string {
  const config = JSON.parse(readFileSync('config/guest-sync.example.json', 'utf8')) as Record<string, any>;
  change(config);
  const path = join(mkdtempSync(join(tmpdir(), 'guest-sync-test-config-')), 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Polls until `check` holds (a deadline, not a timing assertion: slow machines just wait longer). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
