/**
 * `npm run build [-- <configPath>]`
 *
 * Builds the Lambda bundles with the function CDK calls (`bundleFunction`, infra/bundling.ts):
 *   dist/ingest/index.mjs (+ chunks/, + .map files, + guest-sync.config.json)
 *   dist/sync/index.mjs   (likewise)
 *   dist/sweep/index.mjs  (likewise)
 * The config (default: config/guest-sync.example.json) is validated first, then copied next to each
 * bundle. Prints each function's bytes: all its .mjs files (the handler and its chunks).
 * `buildBundles()` is exported so tests can build into a temp dir and import the real bundles.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadConfigFile } from '../functions/core/config.ts';
import { BUNDLED_CONFIG_FILE, bundleFunction, projectRoot, type FunctionName } from '../infra/bundling.ts';

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
export function buildBundles(outDir: string, configPath: string = DEFAULT_CONFIG_PATH): BuiltBundles {
  const config = resolve(configPath);
  loadConfigFile(config); // throws a ConfigError naming each bad field
  const buildOne = (name: FunctionName): string => {
    const dir = resolve(outDir, name);
    rmSync(dir, { recursive: true, force: true }); // no chunks left over from an earlier build
    mkdirSync(dir, { recursive: true });
    return bundleFunction(name, dir, config);
  };
  return { ingest: buildOne('ingest'), sync: buildOne('sync'), sweep: buildOne('sweep') };
}

/** The code files of a bundle folder (`index.mjs` and its chunks), with their sizes. */
export function bundleFiles(bundle: string): { file: string; bytes: number }[] {
  const dir = dirname(bundle);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.mjs'))
    .map((name) => ({ file: join(dir, name), bytes: statSync(join(dir, name)).size }));
}

/** A bundle's bytes: all its code files, the handler and every chunk, loaded or not. */
export function bundleBytes(bundle: string): number {
  return bundleFiles(bundle).reduce((sum, f) => sum + f.bytes, 0);
}

function formatKb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function main(): void {
  const configArg = process.argv[2];
  const outDir = join(projectRoot, 'dist');
  const started = performance.now();
  const bundles = buildBundles(outDir, configArg ?? DEFAULT_CONFIG_PATH);
  const ms = Math.round(performance.now() - started);
  for (const [name, bundle] of Object.entries(bundles)) {
    const files = bundleFiles(bundle);
    const size = bundleBytes(bundle);
    const gzip = files.reduce((sum, f) => sum + gzipSync(readFileSync(f.file)).length, 0);
    const maps = files.reduce((sum, f) => sum + statSync(`${f.file}.map`).size, 0);
    console.log(
      `${name.padEnd(7)} ${relative(process.cwd(), bundle)} ${formatKb(statSync(bundle).size)} + ${files.length - 1} chunks: ${formatKb(size)} in all (gzip ${formatKb(gzip)}), source maps ${formatKb(maps)}`,
    );
  }
  console.log(`config  ${relative(process.cwd(), resolve(configArg ?? DEFAULT_CONFIG_PATH))} -> ${BUNDLED_CONFIG_FILE} in each bundle`);
  console.log(`built in ${ms} ms`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
