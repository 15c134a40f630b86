import type { TraceEntry, TraceTargetAction } from '../functions/core/store.ts';
import type { CliContext } from './env.ts';

/**
 * `guest-sync trace <connection> <reservation>`: the reservation's timeline, oldest first: each
 * delivery sync processed (id, attempt, status, version), what it did to the snapshot (which
 * fields changed, never their values) and each target's action with its answer's code. Steps are
 * kept as long as the reservation's other data (its retention ttl).
 */
export async function trace(ctx: CliContext, connectionId: string, reservationId: string, options: { json?: boolean }, out: (line: string) => void): Promise<number> {
  const steps = await ctx.store().listTrace({ connectionId, reservationId });
  if (options.json) {
    out(JSON.stringify({ connectionId, reservationId, steps: steps.map(jsonStep) }, null, 2));
    return steps.length === 0 ? 1 : 0;
  }
  if (steps.length === 0) {
    out(`No trace for ${connectionId}/${reservationId}: no event for it reached sync (or its data has expired).`);
    return 1;
  }
  out(`Trace of ${connectionId}/${reservationId}: ${steps.length} step(s), oldest first`);
  for (const step of steps) {
    out(`${iso(step.at)}  ${describeStep(step)}`);
    for (const action of step.targets) out(`    ${action.target.padEnd(10)} ${describeAction(action)}`);
  }
  return 0;
}

function describeStep(step: TraceEntry): string {
  const attempt = step.attempt !== undefined && step.attempt > 1 ? ` (attempt ${step.attempt})` : '';
  if (step.via === 'resync') return `resync (${step.reason ?? 'unknown'})${attempt}`;
  if (step.via === 'lane') return `lane (the work handed to ${step.targets.map((t) => t.target).join(', ')})${attempt}`;
  const event = step.event ? `  ${step.event.status} (PMS: ${step.event.sourceStatus}) version ${step.event.version}` : '';
  const snapshot = step.snapshot ? `  snapshot ${step.snapshot.replace('_', ' ')}` : '';
  const changed = step.changed && step.changed.length > 0 ? `: ${step.changed.join(', ')}` : '';
  const code = step.code ? ` (${step.code})` : '';
  return `delivery ${step.deliveryId ?? '?'}${attempt}${event}${snapshot}${code}${changed}`;
}

function describeAction(action: TraceTargetAction): string {
  const parts = [action.action];
  if (action.code) parts.push(`${action.code}${action.permanent ? ' (permanent)' : action.action === 'failed' ? ' (will retry)' : ''}`);
  if (action.retryAt !== undefined) parts.push(`retry at ${iso(action.retryAt)}`);
  return parts.join('  ');
}

function jsonStep(step: TraceEntry): Record<string, unknown> {
  return { ...step, at: iso(step.at), targets: step.targets.map((t) => ({ ...t, ...(t.retryAt !== undefined ? { retryAt: iso(t.retryAt) } : {}) })) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
