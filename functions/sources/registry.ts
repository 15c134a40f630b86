import type { PmsType } from '../core/config.ts';
import { generic } from './generic.ts';
import { hostaway } from './hostaway.ts';
import type { Source } from './source.ts';

/** One line per PMS. */
export const sources: Record<PmsType, Source> = {
  hostaway,
  generic,
};
