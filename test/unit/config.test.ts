import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, VALIDATED_BY_BUILD, loadConfigFile, parseConfig, secretRefs, validatedConfigFile } from '../../functions/core/config.ts';

const valid = {
  connections: {
    'hostaway-demo': {
      pms: 'hostaway',
      secret: 'hostaway-demo',
      properties: { '219407': { timeZone: 'Europe/Stockholm', targets: { minut: { homeId: 'home_1' } } } },
    },
  },
  targets: { minut: { baseUrl: 'https://api.minut.com/v8', credentials: 'minut' } },
};

describe('config', () => {
  it("loads a bundle's config as its build validated it, and validates it again once edited", () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-sync-config-'));
    const file = join(dir, 'guest-sync.config.json');
    const source = loadConfigFile('config/guest-sync.example.json');
    writeFileSync(file, validatedConfigFile(source));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty([VALIDATED_BY_BUILD]);
    expect(loadConfigFile(file)).toEqual(source);

    // Edited after the build, stamp and all: no longer trusted, so a bad value is refused as in any file.
    const edited = JSON.parse(readFileSync(file, 'utf8')) as { targets: { minut: { baseUrl: string } } };
    edited.targets.minut.baseUrl = 'not a url';
    writeFileSync(file, JSON.stringify(edited));
    expect(() => loadConfigFile(file)).toThrow(ConfigError);
    expect(() => loadConfigFile(file)).toThrow(/targets\.minut\.baseUrl/);
    // A good edit is validated and used, defaults and all.
    edited.targets.minut.baseUrl = 'https://minut.example.com/v8';
    writeFileSync(file, JSON.stringify(edited));
    expect(loadConfigFile(file).targets.minut?.baseUrl).toBe('https://minut.example.com/v8');
  });

  it('loads the shipped example and lists the secrets it needs', () => {
    const config = loadConfigFile('config/guest-sync.example.json');
    expect(secretRefs(config)).toEqual([
      'apaleo-demo', 'apaleo-demo-api', 'cloudbeds-demo', 'cloudbeds-demo-api', 'generic-demo', 'guesty-demo', 'guesty-demo-api', 'hospitable-demo', 'hospitable-demo-api', 'hostaway-demo', 'hostaway-demo-api', 'hostelmate', 'kasify',
      'lodgify-demo', 'lodgify-demo-api', 'mews-demo', 'mews-demo-api', 'minut', 'recepai', 'smily-demo', 'smily-demo-api', 'smoobu-demo', 'smoobu-demo-api',
    ]);
  });

  it('requires the PMS API for PMSs whose events are completed by a fetch, naming the field', () => {
    for (const pms of ['guesty', 'smily']) {
      const config = { connections: { c: { pms, secret: 'c', properties: {} } }, targets: {} };
      expect(() => parseConfig(config)).toThrow(/connections\.c\.api: required for this pms/);
      const withApi = { connections: { c: { pms, secret: 'c', api: { baseUrl: 'https://example.com', credentials: 'c-api' }, properties: {} } }, targets: {} };
      expect(secretRefs(parseConfig(withApi))).toEqual(['c', 'c-api']);
    }
    const badUrl = { connections: { c: { pms: 'guesty', secret: 'c', api: { baseUrl: 'not a url', credentials: 'c-api' }, properties: {} } }, targets: {} };
    expect(() => parseConfig(badUrl)).toThrow(/connections\.c\.api\.baseUrl/);
  });

  it('fills defaults: retention, body limit, check-in/out times, Minut pacing', () => {
    const config = parseConfig(valid);
    expect(config.retentionDays).toBe(30);
    expect(config.maxBodyBytes).toBe(1_048_576);
    expect(config.connections['hostaway-demo']!.properties['219407']).toMatchObject({ checkInTime: '15:00', checkOutTime: '11:00' });
    expect(config.targets.minut?.requestsPerSecond).toBe(1.8);
  });

  it('names each bad field and what was expected', () => {
    const bad = structuredClone(valid);
    bad.connections['hostaway-demo'].pms = 'airbnb';
    Object.assign(bad.connections['hostaway-demo'].properties['219407'], { timeZone: 'Mars/Olympus', checkInTime: '3pm' });
    expect(() => parseConfig(bad)).toThrow(/connections\.hostaway-demo\.pms: .*"hostaway"/);
    expect(() => parseConfig(bad)).toThrow(/connections\.hostaway-demo\.properties\.219407\.timeZone: expected an IANA time zone/);
    expect(() => parseConfig(bad)).toThrow(/properties\.219407\.checkInTime: expected a local time HH:MM/);
  });

  it('rejects unknown keys (a typo is not silently ignored) and a route to an unconfigured target', () => {
    expect(() => parseConfig({ ...valid, retentionDay: 10 })).toThrow(/retentionDay/);
    expect(() => parseConfig({ ...valid, targets: {} })).toThrow(/targets\.minut: routes to "minut", but targets\.minut is not configured/);
  });

  it('refuses a secret value in place of a secret name', () => {
    const bad = structuredClone(valid);
    bad.targets.minut.credentials = 'client:secret with spaces';
    expect(() => parseConfig(bad)).toThrow(/targets\.minut\.credentials: expected a secret name/);
  });
});
