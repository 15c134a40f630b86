import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptionsFor } from '../infra/bundling.ts';
import { buildBundles, bundleFiles } from '../scripts/build-bundles.ts';

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
  const bytes = (bundle: string) => bundleFiles(bundle).reduce((sum, f) => sum + f.bytes, 0);
  const baseline = async (name: string) => {
    const outDir = join(dir, 'baselines', name);
    await build(esbuildOptionsFor(fileURLToPath(new URL(`./baselines/${name}.ts`, import.meta.url)), outDir));
    return bytes(join(outDir, 'index.mjs'));
  };
  return {
    ingest: { bytes: bytes(bundles.ingest), baselineBytes: await baseline('ingest-sdk-only') },
    sync: { bytes: bytes(bundles.sync), baselineBytes: await baseline('sync-sdk-only') },
    sweep: { bytes: bytes(bundles.sweep) },
  };
}
