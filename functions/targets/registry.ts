import type { TargetName } from '../core/config.ts';
import { createHostelmateTarget } from './hostelmate.ts';
import { createKasifyTarget } from './kasify.ts';
import { createMinutTarget } from './minut.ts';
import { createRecepaiTarget } from './recepai.ts';
import type { Target, TargetDeps } from './target.ts';

/** One line per target: builds the adapters the config enables. */
export function createTargets(deps: TargetDeps): Partial<Record<TargetName, Target>> {
  const targets: Partial<Record<TargetName, Target>> = {};
  if (deps.config.targets.minut) targets.minut = createMinutTarget(deps);
  if (deps.config.targets.recepai) targets.recepai = createRecepaiTarget(deps);
  if (deps.config.targets.kasify) targets.kasify = createKasifyTarget(deps);
  if (deps.config.targets.hostelmate) targets.hostelmate = createHostelmateTarget(deps);
  return targets;
}
