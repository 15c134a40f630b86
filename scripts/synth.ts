/**
 * `npm run synth [-- -c stage=prod -c configPath=config/my.json]`
 *
 * Runs the pinned CDK CLI (`cdk synth --quiet`) fully offline: no notices, no telemetry, no version
 * check, no npm update notifier (NodejsFunction runs `npx --no-install esbuild`), no EC2 metadata
 * lookups. Exits with the CLI's status, so any cdk-nag finding (reported by the validation plugin)
 * fails the command. The template lands in `cdk.out/`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cdk = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'cdk.cmd' : 'cdk');

if (!existsSync(cdk)) {
  console.error(`synth: ${cdk} not found; run npm install first`);
  process.exit(1);
}

const env: NodeJS.ProcessEnv = {
  ...process.env,
  CDK_DISABLE_VERSION_CHECK: 'true',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  npm_config_update_notifier: 'false',
  AWS_EC2_METADATA_DISABLED: 'true',
  // Synth is environment-agnostic; a region only keeps the SDK inside the CLI from looking one up.
  AWS_REGION: process.env.AWS_REGION || 'us-east-1',
};

const args = ['synth', '--quiet', '--no-notices', ...process.argv.slice(2)];
const started = performance.now();
const child = spawn(cdk, args, { cwd: root, env, stdio: 'inherit' });

child.on('error', (error) => {
  console.error(`synth: cannot run ${cdk}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (code === 0) {
    console.error(`synth: ok in ${seconds} s (template in cdk.out/)`);
    process.exit(0);
  }
  console.error(
    `synth: failed (${signal ? `signal ${signal}` : `exit ${code}`}) after ${seconds} s; cdk-nag findings are listed above and in cdk.out/`,
  );
  process.exit(code ?? 1);
});
