/**
 * cdk-nag (AwsSolutions pack, cdk-nag 3.x API) and every acknowledged finding, each with its reason.
 * Acknowledgements are attached to the narrowest construct that causes the finding, so a new
 * resource of the same kind is still checked.
 */
import { Validations, type PolicyValidationPluginReport, type Stage } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { GuestSyncStack } from './stack.ts';

export interface NagAcknowledgement {
  /** Full (granular where the rule is granular) cdk-nag rule id. */
  readonly id: string;
  readonly reason: string;
}

export const NAG_REASONS = {
  lambdaRuntime: {
    id: 'AwsSolutions-L1',
    reason:
      'Deliberately pinned to nodejs22.x (the project targets Node 22: the same major runs locally, in CI and in the bundle target); ' +
      'NODEJS_LATEST is nodejs24.x. Move both together when the project moves to Node 24.',
  },
  secretRotation: {
    id: 'AwsSolutions-SMG4',
    reason:
      'These secrets hold credentials issued by third parties (PMS webhook signing secrets / Basic-auth passwords, target OAuth ' +
      'client credentials). They can only be rotated at the vendor, so a Secrets Manager rotation Lambda cannot rotate them; ' +
      'rotation is a documented manual procedure (a new value is put into the secret; the verifier accepts {current, previous}).',
  },
  webhookRouteAuthorization: {
    id: 'AwsSolutions-APIG4',
    reason:
      'PMS webhooks cannot present AWS IAM/JWT credentials. Each delivery is authenticated inside the ingest function on the ' +
      'raw body with the scheme of its PMS (Standard Webhooks/HMAC signature or HTTP Basic), per connection; an API Gateway ' +
      'authorizer cannot see the body, so it cannot verify signatures. Unauthenticated requests get a 401 and nothing is queued.',
  },
} as const satisfies Record<string, NagAcknowledgement>;

/** Registers the AwsSolutions checks on an app (or stage): synth fails on any unacknowledged finding. */
export function addNagChecks(scope: Stage): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope, { verbose: true }));
}

function acknowledge(scope: IConstruct, ack: NagAcknowledgement): void {
  Validations.of(scope).acknowledge({ id: ack.id, reason: ack.reason });
}

/** Every acknowledgement for a GuestSyncStack, on the constructs that cause each finding. */
export function acknowledgeNagFindings(stack: GuestSyncStack): void {
  for (const fn of [stack.ingestFunction, stack.syncFunction, stack.sweepFunction]) acknowledge(fn, NAG_REASONS.lambdaRuntime);
  for (const secret of stack.secrets.values()) acknowledge(secret, NAG_REASONS.secretRotation);
  for (const route of stack.webhookRoutes) acknowledge(route, NAG_REASONS.webhookRouteAuthorization);
}

/** Runs the AwsSolutions pack directly on a scope (for tests): `{ success, violations }`. */
export function runNag(scope: IConstruct): PolicyValidationPluginReport {
  return new AwsSolutionsChecks(scope).validateScope(scope);
}
