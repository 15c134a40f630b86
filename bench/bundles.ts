import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptionsFor } from '../infra/bundling.ts';
import { buildBundles, bundleBytes } from '../scripts/build-bundles.ts';

/**
 * Bundle bytes per function, built exactly as CDK builds them, against SDK-only handlers built the
 * same way: every .mjs file of the function, its handler and all its chunks, loaded or not.
 */
export interface BundleFigures {
  ingest: { bytes: number; baselineBytes: number };
  sync: { bytes: number; baselineBytes: number };
  sweep: { bytes: number };
}

export async function measureBundles(): Promise<BundleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'guest-sync-bench-bundles-'));
  const bundles = buildBundles(join(dir, 'functions'));
  return {
    ingest: { bytes: bundleBytes(bundles.ingest), baselineBytes: bundleBytes(await buildBaseline('ingest-sdk-only', dir)) },
    sync: { bytes: bundleBytes(bundles.sync), baselineBytes: bundleBytes(await buildBaseline('sync-sdk-only', dir)) },
    sweep: { bytes: bundleBytes(bundles.sweep) },
  };
}

/** Builds the SDK-only baseline `bench/baselines/<name>.ts` with the functions' settings under `dir`; returns its handler's path. */
export async function buildBaseline(name: 'ingest-sdk-only' | 'sync-sdk-only', dir: string): Promise<string> {
  const outDir = join(dir, 'baselines', name);
  await build(esbuildOptionsFor(fileURLToPath(new URL(`./baselines/${name}.ts`, import.meta.url)), outDir));
  return join(outDir, 'index.mjs');
}
