import { userInfo } from 'node:os';
import { loadConfigFile, secretRefs, type Config } from '../functions/core/config.ts';
import { configHash } from '../functions/core/config-store.ts';
import { errorMessage } from '../functions/core/errors.ts';
import { fetcherLookup } from '../functions/sources/fetcher.ts';
import { fetcherFactories } from '../functions/sources/fetcher-registry.ts';
import { createTargets } from '../functions/targets/registry.ts';
import type { CliContext } from './env.ts';
import { offboardRemovedRoutes } from './offboard.ts';

/**
 * `guest-sync config check [--file f]`: validates the config (a file, or the one in force on the
 * stack) and proves each secret it names: every connection's secret must exist, every PMS API
 * credential and every target's credentials must be accepted (one read-only request each, e.g.
 * Minut grants a token, apaleo reads a reservation that does not exist). A failure
 * names the secret, so the operator knows which one to fix. Exit status 1 on any failure.
 */
export async function configCheck(ctx: CliContext, options: { file?: string }, out: (line: string) => void): Promise<number> {
  let config: Config;
  let origin: string;
  let hash: string;
  try {
    if (options.file) {
      config = loadConfigFile(options.file);
      origin = `file ${options.file}`;
      hash = configHash(config);
    } else {
      ({ config, origin, hash } = await ctx.activeConfig());
    }
  } catch (error) {
    out(`config: INVALID\n${errorMessage(error)}`);
    return 1;
  }
  const properties = Object.values(config.connections).reduce((n, c) => n + Object.keys(c.properties).length, 0);
  const targetNames = Object.keys(config.targets).filter((name) => config.targets[name as keyof Config['targets']]);
  out(`config: ok (${origin}, hash ${hash}): ${Object.keys(config.connections).length} connection(s), ${properties} propert${properties === 1 ? 'y' : 'ies'}, targets: ${targetNames.join(', ') || 'none'}`);

  const secrets = ctx.secrets();
  // Probes never touch the stack's token cache (they take a token of their own), so any store will do.
  const fetchers = fetcherLookup(fetcherFactories, { config, secrets, store: ctx.storeOrUnused() });
  let failures = 0;
  for (const [connectionId, connection] of Object.entries(config.connections)) {
    try {
      await secrets.get(connection.secret);
      out(`connection ${connectionId} (${connection.pms}): secret "${connection.secret}" ok (present)`);
    } catch (error) {
      failures += 1;
      out(`connection ${connectionId} (${connection.pms}): secret "${connection.secret}" FAILED: ${errorMessage(error)}`);
    }
    // The PMS API credentials of notify-then-fetch connections: accepted by the PMS where its reader can prove it.
    if (connection.api) {
      try {
        await secrets.get(connection.api.credentials);
        const check = fetchers(connectionId)?.checkCredentials;
        const note = check ? await check() : 'the reader has no credential check';
        out(`connection ${connectionId} (${connection.pms}): API credentials "${connection.api.credentials}" ${note ? `present, not checked: ${note}` : 'ok (accepted)'}`);
      } catch (error) {
        failures += 1;
        out(`connection ${connectionId} (${connection.pms}): API credentials "${connection.api.credentials}" FAILED: ${errorMessage(error)}`);
      }
    }
  }
  // The targets' store is never touched by a credential check; any table name will do.
  // One request per target: no share of the workers' rate to wait for.
  const targets = createTargets({ config, secrets, store: ctx.storeOrUnused(), shareRate: false });
  for (const name of targetNames) {
    const target = targets[name as keyof typeof targets];
    const ref = config.targets[name as keyof Config['targets']]!.credentials;
    if (!target?.checkCredentials) {
      out(`target ${name}: credentials "${ref}" not checked (the adapter has no credential check)`);
      continue;
    }
    try {
      const note = await target.checkCredentials();
      out(note ? `target ${name}: credentials "${ref}" not checked: ${note}` : `target ${name}: credentials "${ref}" ok`);
    } catch (error) {
      failures += 1;
      out(`target ${name}: credentials "${ref}" FAILED: ${errorMessage(error)}`);
    }
  }
  out(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
  return failures === 0 ? 0 : 1;
}

/**
 * `guest-sync config push <file>`: validates the file and makes it the stack's active config.
 * The functions pick it up within their cache time (60 s); no `cdk deploy`. A file that does
 * not validate is refused and nothing changes.
 */
export async function configPush(ctx: CliContext, file: string, out: (line: string) => void): Promise<number> {
  let config: Config;
  try {
    config = loadConfigFile(file);
  } catch (error) {
    out(`refused: ${errorMessage(error)}`);
    return 1;
  }
  // A secret name the stack does not know yet has no Secrets Manager secret and no IAM grant:
  // that needs a `cdk deploy` (pushing is still allowed; the rest of the config works).
  const active = await ctx.activeConfig().then(
    (a) => a.config,
    () => undefined,
  );
  const known = active ? new Set(secretRefs(active)) : undefined;
  const added = known ? secretRefs(config).filter((ref) => !known.has(ref)) : [];
  if (added.length > 0) {
    out(`warning: new secret name(s) ${added.map((ref) => `"${ref}"`).join(', ')}: run cdk deploy with this config so the stack creates and grants them; until then their connections or targets fail`);
  }
  // Guests created through routes this config removes are left (and listed) or removed, never orphaned.
  if (active) await offboardRemovedRoutes(ctx, active, config, out);
  else out('offboarding: no active config to compare with (nothing pushed, no GUEST_SYNC_CONFIG): removed routes cannot be detected');
  const hash = await ctx.configStore().push(config, pushedBy());
  const properties = Object.values(config.connections).reduce((n, c) => n + Object.keys(c.properties).length, 0);
  out(`pushed config ${hash} (${Object.keys(config.connections).length} connection(s), ${properties} propert${properties === 1 ? 'y' : 'ies'}); the functions use it within 60 s`);
  return 0;
}

/** `guest-sync config reset`: forgets the pushed config; the functions fall back to the deployed file. */
export async function configReset(ctx: CliContext, out: (line: string) => void): Promise<number> {
  await ctx.configStore().reset();
  out('pushed config removed; the functions use the config file of the last deploy within 60 s');
  return 0;
}

function pushedBy(): string {
  try {
    return userInfo().username;
  } catch {
    return 'operator';
  }
}
