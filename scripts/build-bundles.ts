/**
 * `npm run build [-- <configPath>]`
 *
 * Builds the Lambda bundles exactly as CDK does (same esbuild settings, from infra/bundling.ts):
 *   dist/ingest/index.mjs (+ .map, + guest-sync.config.json)
 *   dist/sync/index.mjs   (+ .map, + guest-sync.config.json)
 *   dist/sweep/index.mjs  (+ .map, + guest-sync.config.json)
 * The config (default: config/guest-sync.example.json) is validated first, then copied next to each
 * bundle. Prints bundle sizes. `buildBundles()` is exported so tests can build into a temp dir and
 * import the real bundles.
 */
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { loadConfigFile } from '../functions/core/config.ts';
import { BUNDLED_CONFIG_FILE, esbuildOptionsFor, handlerEntries, projectRoot, type FunctionName } from '../infra/bundling.ts';

export const DEFAULT_CONFIG_PATH = join(projectRoot, 'config', 'guest-sync.example.json');

export interface BuiltBundles {
  /** Absolute path of dist/ingest/index.mjs (or its equivalent under `outDir`). */
  ingest: string;
  /** Absolute path of dist/sync/index.mjs (or its equivalent under `outDir`). */
  sync: string;
  /** Absolute path of dist/sweep/index.mjs (or its equivalent under `outDir`). */
  sweep: string;
}

/** Builds every bundle into `<outDir>/<name>/index.mjs` and copies the validated config next to each. */
export async function buildBundles(outDir: string, configPath: string = DEFAULT_CONFIG_PATH): Promise<BuiltBundles> {
  const config = resolve(configPath);
  loadConfigFile(config); // throws a ConfigError naming each bad field
  const buildOne = async (name: FunctionName): Promise<string> => {
    const dir = resolve(outDir, name);
    mkdirSync(dir, { recursive: true });
    const outfile = join(dir, 'index.mjs');
    await build(esbuildOptionsFor(handlerEntries[name], outfile));
    copyFileSync(config, join(dir, BUNDLED_CONFIG_FILE));
    return outfile;
  };
  const [ingest, sync, sweep] = await Promise.all([buildOne('ingest'), buildOne('sync'), buildOne('sweep')]);
  return { ingest, sync, sweep };
}

function formatKb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

async function main(): Promise<void> {
  const configArg = process.argv[2];
  const outDir = join(projectRoot, 'dist');
  const started = performance.now();
  const bundles = await buildBundles(outDir, configArg ?? DEFAULT_CONFIG_PATH);
  const ms = Math.round(performance.now() - started);
  for (const [name, file] of Object.entries(bundles)) {
    const size = statSync(file).size;
    const gzip = gzipSync(readFileSync(file)).length;
    const map = statSync(`${file}.map`).size;
    console.log(
      `${name.padEnd(7)} ${relative(process.cwd(), file)}  ${formatKb(size)} (gzip ${formatKb(gzip)}), source map ${formatKb(map)}`,
    );
  }
  console.log(`config  ${relative(process.cwd(), resolve(configArg ?? DEFAULT_CONFIG_PATH))} -> ${BUNDLED_CONFIG_FILE} in each bundle`);
  console.log(`built in ${ms} ms`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
