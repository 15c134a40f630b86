import type { TargetName } from '../core/config.ts';
import { timing } from '../core/powertools.ts';
import type { Target } from '../targets/target.ts';

/**
 * The targets, each reporting `TargetLatency` (ms, per target) for every `apply`, whatever its
 * outcome. A wrapper, so no target adapter has to remember it. The wrapper inherits everything
 * else from the adapter (its prototype is the adapter).
 */
export function withLatencyMetric(targets: Partial<Record<TargetName, Target>>, now: () => number): Partial<Record<TargetName, Target>> {
  const timed: Partial<Record<TargetName, Target>> = {};
  for (const [name, target] of Object.entries(targets) as [TargetName, Target][]) {
    const wrapper = Object.create(target) as Target;
    wrapper.apply = async (input) => {
      const started = now();
      try {
        return await target.apply(input);
      } finally {
        timing('TargetLatency', now() - started, { target: target.name });
      }
    };
    timed[name] = wrapper;
  }
  return timed;
}
