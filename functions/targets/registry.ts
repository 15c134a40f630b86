import type { Config, TargetName } from '../core/config.ts';
import type { SecretStore } from '../core/secrets.ts';
import type { Store } from '../core/store.ts';
import { createMinutTarget } from './minut.ts';
import type { Target } from './target.ts';

export interface TargetDeps {
  config: Config;
  secrets: SecretStore;
  store: Store;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  instanceId?: string;
}

/** One line per target: builds the adapters the config enables. */
export function createTargets(deps: TargetDeps): Partial<Record<TargetName, Target>> {
  const targets: Partial<Record<TargetName, Target>> = {};
  if (deps.config.targets.minut) targets.minut = createMinutTarget(deps);
  return targets;
}
