/**
 * The one place that says how Lambda code is bundled. Two consumers read it:
 *  - CDK (`NodejsFunction`), through `lambdaBundling()` / `nodejsFunctionBase()`;
 *  - `scripts/build-bundles.ts` (and tests that import real bundles), through
 *    `esbuildOptionsFor()`, which drives esbuild's JS API with the same settings.
 * Change a setting here and both change together.
 */
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { LogLevel, OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/** Repository root (this file lives in `<root>/infra/`). */
export const projectRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The lock file NodejsFunction reads to pick the package manager (npm) and runner (`npx --no-install esbuild`). */
export const depsLockFilePath: string = join(projectRoot, 'package-lock.json');

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
 * ESM output has no `require`. Some bundled CommonJS dependencies still call `require()` for Node
 * built-ins (esbuild turns these into a `__require` shim that throws "Dynamic require of ... is not
 * supported" unless a real `require` exists). The banner provides one, bound to the bundle's URL.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __guestSyncCreateRequire } from 'node:module'; const require = __guestSyncCreateRequire(import.meta.url);";

/**
 * The shared esbuild settings. Notes:
 * - `format: esm`, `.mjs` output: the handlers and @middy/core 7 are ESM-only; `.mjs` makes Lambda
 *   load the file as ESM without a package.json next to it.
 * - `target: node22`: the Lambda runtime is nodejs22.x (same as local Node >= 22.13).
 * - `mainFields: module, main`: prefer packages' ESM builds (better tree shaking), as for the browser.
 * - `external: []`: the AWS SDK v3 is BUNDLED, not taken from the runtime. The runtime's copy is a
 *   version AWS picks and changes without notice; bundling pins the exact version in
 *   package-lock.json (the one the tests ran against), lets esbuild tree-shake and minify it, and
 *   loads ~2.4x faster than resolving the same modules from node_modules (reference/aws-notes.md
 *   §7.4). The cost is ~350 KB per bundle, far under Lambda's limits.
 * - `minify` + linked `sourcemap` (no `sourcesContent`): small bundles; the map ships next to
 *   the bundle but is not loaded (no `--enable-source-maps`: it costs every cold start); an
 *   operator maps a crash's stack trace by turning it on (docs/runbook.md).
 * - no `keepNames`: it wraps every function and class of the bundle (the SDK's thousands) in a
 *   name-setting call at load, 6 to 30 ms of a cold start. Our error classes name themselves
 *   (`override name = '…'`); the SDK's errors carry their names as data; and the SDK, which tells
 *   its default logger apart by class name, is given one (`AWS_SDK_LOGGER` in runtime.ts).
 *   test/e2e/lambda-bundles.test.ts checks the names in a built bundle.
 * - `alias` `node:http`: imported through infra/shims/node-http.ts, which takes the built-in module
 *   without Node's ESM facade (that facade loads undici, about 10 ms of a cold start).
 */
export const esbuildSettings = {
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  keepNames: false,
  external: [] as string[],
  banner: ESM_REQUIRE_BANNER,
  alias: { 'node:http': join(projectRoot, 'infra', 'shims', 'node-http.ts') },
} as const;

/** Plain esbuild options (JS API) for one entry; same settings NodejsFunction uses. */
export function esbuildOptionsFor(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: esbuildSettings.platform,
    format: esbuildSettings.format,
    target: esbuildSettings.target,
    mainFields: [...esbuildSettings.mainFields],
    minify: esbuildSettings.minify,
    sourcemap: esbuildSettings.sourcemap ? 'linked' : false,
    sourcesContent: esbuildSettings.sourcesContent,
    keepNames: esbuildSettings.keepNames,
    external: [...esbuildSettings.external],
    banner: { js: esbuildSettings.banner },
    alias: { ...esbuildSettings.alias },
    logLevel: 'warning',
    metafile: true,
  };
}

/** Single-quote a string for bash (command hooks run in `bash -c`). */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * NodejsFunction bundling options: the settings above, plus a hook that copies the (already
 * validated) config file next to `index.mjs` as `guest-sync.config.json`.
 * Local esbuild only, never Docker (`forceDockerBundling: false`; esbuild is a devDependency).
 */
export function lambdaBundling(configFile: string): BundlingOptions {
  const absoluteConfig = resolve(configFile);
  const relativeConfig = relative(projectRoot, absoluteConfig);
  const insideRoot = !relativeConfig.startsWith(`..${sep}`) && relativeConfig !== '..' && !relativeConfig.startsWith(sep);
  return {
    format: OutputFormat.ESM,
    target: esbuildSettings.target,
    mainFields: [...esbuildSettings.mainFields],
    minify: esbuildSettings.minify,
    sourceMap: esbuildSettings.sourcemap,
    sourceMapMode: SourceMapMode.DEFAULT,
    sourcesContent: esbuildSettings.sourcesContent,
    keepNames: esbuildSettings.keepNames,
    banner: esbuildSettings.banner,
    esbuildArgs: { '--alias': Object.entries(esbuildSettings.alias).map(([from, to]) => `${from}=${to}`) },
    bundleAwsSDK: true,
    externalModules: [...esbuildSettings.external],
    logLevel: LogLevel.WARNING,
    forceDockerBundling: false,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir: string, outputDir: string) => {
        // Inside the project the path is taken relative to inputDir, which also works if CDK ever
        // bundles in Docker (inputDir is then the mounted project root).
        const source = insideRoot ? join(inputDir, relativeConfig) : absoluteConfig;
        return [`cp ${shellQuote(source)} ${shellQuote(join(outputDir, BUNDLED_CONFIG_FILE))}`];
      },
    },
  };
}

/** The NodejsFunction props that pin local bundling to this repository. */
export function nodejsFunctionBase(name: FunctionName, configFile: string) {
  return {
    entry: handlerEntries[name],
    handler: 'handler',
    projectRoot,
    depsLockFilePath,
    bundling: lambdaBundling(configFile),
  };
}
