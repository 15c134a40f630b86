import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * `npm run fuzz [-- --cases N --seed S --path P]`: the ingest fuzz suite at full size
 * (test/fuzz/harness.ts). Writes reports/fuzz.json; a failing case is printed shrunk with the
 * seed and path that replay it.
 */
const { values } = parseArgs({ options: { cases: { type: 'string', default: '10000' }, seed: { type: 'string', default: '20261130' }, path: { type: 'string' } } });
// Quiet handlers: set before the handler modules (and their logger) load.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_DEV ??= 'false';
const { runIngestFuzz, summary } = await import('../test/fuzz/harness.ts');

const report = await runIngestFuzz({ cases: Number(values.cases), seed: Number(values.seed), ...(values.path ? { path: values.path } : {}) }).catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
console.log(summary(report));
mkdirSync('reports', { recursive: true });
writeFileSync('reports/fuzz.json', `${JSON.stringify(report, null, 2)}\n`);
console.log('written to reports/fuzz.json');
