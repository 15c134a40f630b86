/**
 * The one place that says how Lambda code is bundled: `bundleFunction()` builds a function's
 * folder (esbuild, then the config next to it). CDK calls it through `functionCode()` (local
 * bundling, no Docker); `npm run build`, the bench and the tests that import real bundles call
 * it directly. One function, so what is tested is what is deployed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync, type BuildOptions } from 'esbuild';
import { AssetHashType, DockerImage, type BundlingOptions, type ILocalBundling } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { loadConfigFile, validatedConfigFile } from '../functions/core/config.ts';

/** Repository root (this file lives in `<root>/infra/`). */
export const projectRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where each Lambda handler lives; each exports `handler`. */
export const handlerEntries = {
  ingest: join(projectRoot, 'functions', 'ingest', 'handler.ts'),
  sync: join(projectRoot, 'functions', 'sync', 'handler.ts'),
  sweep: join(projectRoot, 'functions', 'sweep', 'handler.ts'),
} as const;
export type FunctionName = keyof typeof handlerEntries;

/** Name of the validated config file inside every bundle (read via `GUEST_SYNC_CONFIG`). */
export const BUNDLED_CONFIG_FILE = 'guest-sync.config.json';

/**
 * The Node options every function runs with: its `NODE_OPTIONS` on Lambda, and the fresh processes
 * the bench and the bundle tests start. With AsyncContextFrame, `AsyncLocalStorage` (sync's
 * deadline and per-message log keys) rides on V8's own continuation data instead of promise hooks,
 * which once a process enters its first scope slow every promise after it (Node 24's default;
 * docs/throughput.md, "Cold start").
 */
export const LAMBDA_NODE_OPTIONS = '--experimental-async-context-frame';

/**
 * ESM output has no `require`. Some bundled CommonJS dependencies still call `require()` for Node
 * built-ins (esbuild turns these into a `__require` shim that throws "Dynamic require of ... is not
 * supported" unless a real `require` exists). The banner provides one, bound to the bundle's URL.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __guestSyncCreateRequire } from 'node:module'; const require = __guestSyncCreateRequire(import.meta.url);";

/**
 * The esbuild settings. Notes:
 * - `format: esm`, `.mjs` output: the handlers and @middy/core 7 are ESM-only; `.mjs` makes Lambda
 *   load the file as ESM without a package.json next to it.
 * - `splitting`: what a function loads with `import()` (the PMS adapters and their API readers,
 *   the Secrets Manager client, libphonenumber, the AWS clients the runtime builds on first use)
 *   goes into `chunks/`, read from disk only when first needed, and what a request never uses
 *   is never compiled. In one file, every cold start compiled all of it: split, a fresh
 *   process answering its first request took about 30 ms less for ingest and 55 ms less for
 *   sync (docs/throughput.md). The folder, not a file, is the function's code.
 * - `target: node22`: the Lambda runtime is nodejs22.x (same as local Node >= 22.13).
 * - `mainFields: module, main`: prefer packages' ESM builds (better tree shaking), as for the browser.
 * - `external: []`: the AWS SDK v3 is BUNDLED, not taken from the runtime. The runtime's copy is a
 *   version AWS picks and changes without notice; bundling pins the exact version in
 *   package-lock.json (the one the tests ran against), lets esbuild tree-shake and minify it, and
 *   loads ~2.4x faster than resolving the same modules from node_modules (reference/aws-notes.md
 *   §7.4). The cost is ~350 KB per bundle, far under Lambda's limits.
 * - `minify` + linked `sourcemap` (no `sourcesContent`): small bundles; each file's map ships next
 *   to it but is not loaded (no `--enable-source-maps`: it costs every cold start); an operator
 *   maps a crash's stack trace by turning it on (docs/runbook.md).
 * - no `keepNames`: it wraps every function and class of the bundle (the SDK's thousands) in a
 *   name-setting call at load, 6 to 30 ms of a cold start. Our error classes name themselves
 *   (`override name = '…'`); the SDK's errors carry their names as data; and the SDK, which tells
 *   its default logger apart by class name, is given one (`AWS_SDK_LOGGER` in runtime.ts).
 *   test/e2e/lambda-bundles.test.ts checks the names in a built bundle.
 * - `alias` `node:http`: imported through infra/shims/node-http.ts, which takes the built-in module
 *   without Node's ESM facade (that facade loads undici, about 10 ms of a cold start).
 */
export function esbuildOptionsFor(entry: string, outDir: string): BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    keepNames: false,
    external: [],
    banner: { js: ESM_REQUIRE_BANNER },
    alias: { 'node:http': join(projectRoot, 'infra', 'shims', 'node-http.ts') },
    logLevel: 'warning',
  };
}

/**
 * Builds one function into `outDir`: `index.mjs` (its handler), `chunks/`, their maps, and the
 * config as `guest-sync.config.json`, validated and stamped by the build (`validatedConfigFile`: the
 * function then need not validate it again at its cold start). Synchronous: CDK's local bundling is.
 */
export function bundleFunction(name: FunctionName, outDir: string, configFile: string): string {
  buildSync(esbuildOptionsFor(handlerEntries[name], outDir));
  writeFileSync(join(outDir, BUNDLED_CONFIG_FILE), validatedConfigFile(loadConfigFile(configFile)));
  return join(outDir, 'index.mjs');
}

/**
 * CDK's local bundling of one function. Its fields are part of CDK's asset cache key, so two
 * stacks of one app with different configs (or a config edited between synths) get their own.
 */
class LocalFunctionBundling implements ILocalBundling {
  readonly configSha256: string;
  constructor(
    readonly functionName: FunctionName,
    readonly configFile: string,
  ) {
    this.configSha256 = createHash('sha256').update(readFileSync(configFile)).digest('hex');
  }
  tryBundle(outputDir: string): boolean {
    bundleFunction(this.functionName, outputDir, this.configFile);
    return true;
  }
}

/** A function's code and handler for `new Function(...)`: bundled locally by `bundleFunction()`, never in Docker. */
export function functionCode(name: FunctionName, configFile: string): { code: Code; handler: string } {
  const bundling: BundlingOptions = {
    local: new LocalFunctionBundling(name, resolve(configFile)),
    // Required by CDK, never pulled: local bundling above always succeeds or throws.
    image: DockerImage.fromRegistry('dummy'),
  };
  // The asset's hash is the bundle's: the same code deploys as the same asset.
  return { code: Code.fromAsset(projectRoot, { assetHashType: AssetHashType.OUTPUT, bundling }), handler: 'index.handler' };
}
