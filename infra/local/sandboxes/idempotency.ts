import { createHash } from 'node:crypto';
import type { SandboxResponse } from './http.ts';

/**
 * Idempotency keys as RecepAI and HostelMate document them: a repeat with the same key
 * and the same request gets the first answer again (marked `Idempotent-Replayed: true`);
 * the same key with a different request is refused. Docs silent on scope and on which
 * answers are kept: keys are per credential, and every answer except 429 and 5xx is kept
 * (as Stripe does), so a client can never turn a refusal into a success by repeating it.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, { fingerprint: string; reply: SandboxResponse }>();

  /** The cached answer, 'mismatch' for a reused key, or undefined for a new key. */
  lookup(credential: string, key: string, method: string, path: string, body: Buffer): SandboxResponse | 'mismatch' | undefined {
    const entry = this.entries.get(`${credential}\n${key}`);
    if (!entry) return undefined;
    if (entry.fingerprint !== requestFingerprint(method, path, body)) return 'mismatch';
    return { ...entry.reply, headers: { ...entry.reply.headers, 'Idempotent-Replayed': 'true' } };
  }

  store(credential: string, key: string, method: string, path: string, body: Buffer, reply: SandboxResponse): void {
    if (reply.status === 429 || reply.status >= 500) return;
    this.entries.set(`${credential}\n${key}`, { fingerprint: requestFingerprint(method, path, body), reply: structuredClone(reply) });
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Method, path and the body's JSON value (so whitespace or key order do not make it "different"). */
function requestFingerprint(method: string, path: string, body: Buffer): string {
  let canonical = body.toString('utf8');
  try {
    canonical = stable(JSON.parse(canonical));
  } catch {
    // not JSON: compare the bytes
  }
  return createHash('sha256').update(`${method}\n${path}\n${canonical}`).digest('hex');
}

function stable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  return `{${Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** "The vendor is down": every API request answers `status` until it is switched off. */
export class OutageSwitch {
  private status: number | null = null;
  set(status: number | null): void {
    this.status = status;
  }
  current(): number | null {
    return this.status;
  }
}
