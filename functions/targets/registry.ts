import type { TargetName } from '../core/config.ts';
import { createMinutTarget } from './minut.ts';
import type { Target, TargetDeps } from './target.ts';

/** One line per target: builds the adapters the config enables. */
export function createTargets(deps: TargetDeps): Partial<Record<TargetName, Target>> {
  const targets: Partial<Record<TargetName, Target>> = {};
  if (deps.config.targets.minut) targets.minut = createMinutTarget(deps);
  return targets;
}
