import { expect, it } from 'vitest';
import { runIngestFuzz, summary } from './harness.ts';

/** A small run of the fuzz suite (`npm run fuzz` runs 10,000 cases), so CI guards its invariants. */
it('ingest answers every hostile delivery as documented, and sync carries every message it queued (300 cases)', async () => {
  const report = await runIngestFuzz({ cases: 300, seed: 20261130 });
  console.log(summary(report));
  expect(report.violations).toBe(0);
  expect(report.cases).toBe(300);
  // The run reached the parsers and sync, not only the signature check.
  expect(report.messagesQueued).toBeGreaterThan(50);
  expect(Object.keys(report.answers).some((answer) => answer.startsWith('400 '))).toBe(true);
}, 300_000);
