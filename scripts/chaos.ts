import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * `npm run chaos [-- --reservations N --seed S]`: the chaos suite at its default size
 * (test/chaos/harness.ts). Writes reports/chaos.json and prints the summary; exits 1 unless
 * every target ends with 0 lost, 0 duplicates, 0 stale, 0 orphans, an empty DLQ, converged.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { DEFAULT_CHAOS, chaosSummary, runChaos } = await import('../test/chaos/harness.ts');
const { values } = parseArgs({ options: { reservations: { type: 'string' }, seed: { type: 'string' } } });

const report = await runChaos({
  ...DEFAULT_CHAOS,
  ...(values.reservations ? { reservations: Number(values.reservations) } : {}),
  ...(values.seed ? { seed: Number(values.seed) } : {}),
  log: (line) => console.log(line),
});
console.log(chaosSummary(report));
mkdirSync('reports', { recursive: true });
writeFileSync('reports/chaos.json', `${JSON.stringify(report, null, 2)}\n`);
console.log('written to reports/chaos.json');
const clean = report.converged && report.dlqDepth === 0 && Object.values(report.targets).every((t) => t.lost + t.duplicates + t.stale + t.orphans === 0);
process.exit(clean ? 0 : 1);
