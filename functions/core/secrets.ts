import { readFileSync } from 'node:fs';
import { GuestSyncError } from './errors.ts';

/**
 * Resolves the secret names the config refers to. On AWS: Secrets Manager, cached for
 * a few minutes so a rotation is picked up without a redeploy. Locally: an env var
 * `GUEST_SYNC_SECRET_<NAME>` (upper-cased, "-" → "_"), then a JSON file of name → value.
 * Values are JSON when they parse as JSON, else the raw string.
 */
export interface SecretStore {
  get(name: string): Promise<unknown>;
}

export class SecretNotFoundError extends GuestSyncError {
  override name = 'SecretNotFoundError';
}

export class LocalSecretStore implements SecretStore {
  private fileValues: Record<string, unknown> | undefined;
  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly files: string[],
  ) {}

  async get(name: string): Promise<unknown> {
    const fromEnv = this.env[envNameFor(name)];
    if (fromEnv !== undefined && fromEnv !== '') return parseSecretValue(fromEnv);
    this.fileValues ??= readSecretFiles(this.files);
    if (Object.hasOwn(this.fileValues, name)) return this.fileValues[name];
    throw new SecretNotFoundError(`secret "${name}" is not set: define ${envNameFor(name)} or add it to ${this.files.join(' or ') || 'a secrets file'}`);
  }
}

export function envNameFor(name: string): string {
  let envName = envNames.get(name);
  if (envName === undefined) envNames.set(name, (envName = `GUEST_SYNC_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`));
  return envName;
}
// Asked at every local delivery; the config names a few secrets.
const envNames = new Map<string, string>();

export function parseSecretValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Later files override earlier ones, so a git-ignored `.secrets.json` can override the demo file. */
function readSecretFiles(files: string[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(merged, parsed);
  }
  return merged;
}

/** During a rotation a secret may be `{"current": X, "previous": Y}`: every accepted value, current first. */
export function rotatingValues(value: unknown): unknown[] {
  if (value && typeof value === 'object' && !Array.isArray(value) && 'current' in value) {
    const { current, previous } = value as { current: unknown; previous?: unknown };
    return previous === undefined || previous === null ? [current] : [current, previous];
  }
  return [value];
}
