import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptionsFor } from '../infra/bundling.ts';
import { buildBundles } from '../scripts/build-bundles.ts';

/** Bundle bytes per function, built exactly as CDK builds them, against SDK-only handlers built the same way. */
export interface BundleFigures {
  ingest: { bytes: number; baselineBytes: number };
  sync: { bytes: number; baselineBytes: number };
  sweep: { bytes: number };
}

export async function measureBundles(): Promise<BundleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'guest-sync-bench-bundles-'));
  const bundles = await buildBundles(join(dir, 'functions'));
  const baseline = async (name: string) => {
    const outfile = join(dir, 'baselines', name, 'index.mjs');
    await build(esbuildOptionsFor(fileURLToPath(new URL(`./baselines/${name}.ts`, import.meta.url)), outfile));
    return statSync(outfile).size;
  };
  return {
    ingest: { bytes: statSync(bundles.ingest).size, baselineBytes: await baseline('ingest-sdk-only') },
    sync: { bytes: statSync(bundles.sync).size, baselineBytes: await baseline('sync-sdk-only') },
    sweep: { bytes: statSync(bundles.sweep).size },
  };
}
