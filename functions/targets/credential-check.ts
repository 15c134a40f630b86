import type { Config, PropertyConfig } from '../core/config.ts';
import { PermanentError } from '../core/errors.ts';
import type { HttpResponse } from '../core/http-client.ts';

/**
 * Helpers for `Target.checkCredentials` (`guest-sync config check`): one authenticated,
 * read-only request per target, and a failure that names the credentials secret.
 */

/** Every distinct value `pick` finds among the configured properties' routes (e.g. each RecepAI hotel slug); `pick` returns null to skip a property. */
export function allRouted<T>(config: Config, pick: (property: PropertyConfig) => T | null): T[] {
  const found = new Set<T>();
  for (const connection of Object.values(config.connections)) {
    for (const property of Object.values(connection.properties)) {
      const value = pick(property);
      if (value !== null) found.add(value);
    }
  }
  return [...found];
}

/** The first value `pick` finds among the configured properties (e.g. a RecepAI hotel slug). */
export function firstRouted<T>(config: Config, pick: (property: PropertyConfig) => T | undefined): T | undefined {
  for (const connection of Object.values(config.connections)) {
    for (const property of Object.values(connection.properties)) {
      const found = pick(property);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Throws unless the answer shows the credentials were accepted (`accepted`: statuses that prove it besides 2xx). */
export function expectAccepted(target: string, credentialsRef: string, response: HttpResponse, what: string, accepted: number[] = []): void {
  if ((response.status >= 200 && response.status < 300) || accepted.includes(response.status)) return;
  if (response.status === 401 || response.status === 403) {
    throw new PermanentError(`${target} refused the credentials "${credentialsRef}" (${response.status})`, 'invalid_credentials', response.status);
  }
  throw new PermanentError(`${target} answered ${response.status} to ${what} with the credentials "${credentialsRef}"`, `http_${response.status}`, response.status);
}

export function invalidSecret(target: string, credentialsRef: string, shape: string): PermanentError {
  return new PermanentError(`the ${target} credentials secret "${credentialsRef}" must be ${shape}`, 'invalid_credentials_secret');
}
