/**
 * CDK app: one stack per stage, `GuestSync-<stage>`.
 *
 * Context (`-c key=value` or cdk.json):
 *   stage           deployment stage, default `dev`
 *   configPath      guest-sync config file, default `config/guest-sync.example.json` (relative to the repo root)
 *   maxConcurrency  cap on concurrent sync invocations (2-1000), default 5
 *   laggingAlarmMinutes  alarm when a reservation has been behind on a target this long, default 30
 *   reconcileSchedule    when reconciliation runs (EventBridge expression), default rate(1 day)
 *   ingress         what receives webhooks: httpApi (default) or functionUrl (docs/throughput.md)
 *   ingestReservedConcurrency  with functionUrl: the most ingest invocations at once, default none
 *
 * Parameter (`cdk deploy --parameters AlarmEmail=ops@example.com`):
 *   AlarmEmail      email address subscribed to the stack's alarm topic (empty: none)
 *
 * Run through `npm run synth` (offline; fails on cdk-nag findings) or `npx cdk deploy -c stage=prod`.
 * See docs/deploy.md.
 */
import { isAbsolute, join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { projectRoot } from '../bundling.ts';
import { acknowledgeNagFindings, addNagChecks } from '../nag.ts';
import { DEFAULT_LAGGING_ALARM_MINUTES, DEFAULT_MAX_CONCURRENCY, GuestSyncStack, INGRESSES, type Ingress } from '../stack.ts';

const DEFAULT_CONFIG = 'config/guest-sync.example.json';

const app = new App();

function contextString(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

function contextInteger(key: string, fallback: number): number {
  const raw = contextString(key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`context ${key}=${raw} is invalid: expected an integer`);
  return value;
}

const stage = contextString('stage') ?? 'dev';
const configArg = contextString('configPath') ?? DEFAULT_CONFIG;
const configPath = isAbsolute(configArg) ? configArg : join(projectRoot, configArg);
const maxConcurrency = contextInteger('maxConcurrency', DEFAULT_MAX_CONCURRENCY);
const laggingAlarmMinutes = contextInteger('laggingAlarmMinutes', DEFAULT_LAGGING_ALARM_MINUTES);
const ingress = contextString('ingress') ?? 'httpApi';
if (!(INGRESSES as readonly string[]).includes(ingress)) throw new Error(`context ingress=${ingress} is invalid: expected ${INGRESSES.join(' or ')}`);
const ingestReservedConcurrency = contextString('ingestReservedConcurrency') === undefined ? undefined : contextInteger('ingestReservedConcurrency', 0);
if (ingestReservedConcurrency !== undefined && (ingress !== 'functionUrl' || ingestReservedConcurrency < 1)) {
  throw new Error('context ingestReservedConcurrency applies with ingress=functionUrl and must be 1 or more (the HTTP API throttles by itself)');
}

const stack = new GuestSyncStack(app, `GuestSync-${stage}`, {
  stackName: `GuestSync-${stage}`,
  stage,
  configPath,
  maxConcurrency,
  laggingAlarmMinutes,
  ingress: ingress as Ingress,
  ...(ingestReservedConcurrency !== undefined ? { ingestReservedConcurrency } : {}),
  ...(contextString('reconcileSchedule') ? { reconcileSchedule: contextString('reconcileSchedule')! } : {}),
  // Environment-agnostic on purpose: synth needs no AWS account or network. `cdk deploy` uses the
  // account and region of the caller's credentials.
});

addNagChecks(app);
acknowledgeNagFindings(stack);

app.synth();
