/**
 * openclaw.plugin.json is generated from the option table; OpenClaw validates the plugin's config
 * block against its configSchema, so a drift would reject a valid option or let a typo through.
 * package.json's `openclaw` block must point at the built entry and name the API floor.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../packages/openclaw-plugin/src/config.js';
import entry, { PROVIDER_ID } from '../../packages/openclaw-plugin/src/openclaw-entry.js';
import { buildManifest, manifestText, MANIFEST_PATH } from '../../packages/openclaw-plugin/scripts/gen-plugin-manifest.mjs';

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/openclaw-plugin');

describe('openclaw.plugin.json', () => {
  it('is what gen-plugin-manifest.mjs makes of the current option table', () => {
    // On failure: npm run build && node packages/openclaw-plugin/scripts/gen-plugin-manifest.mjs
    expect(readFileSync(MANIFEST_PATH, 'utf8')).toBe(manifestText(OPTIONS));
  });

  it('declares every gateway option except the CLI-only config file', () => {
    const { configSchema } = buildManifest(OPTIONS);
    expect(Object.keys(configSchema.properties).sort()).toEqual(Object.keys(OPTIONS).filter((k) => k !== 'config').sort());
    expect(configSchema.additionalProperties).toBe(false);
  });

  it('carries no build-machine defaults', () => {
    expect(readFileSync(MANIFEST_PATH, 'utf8')).not.toContain('"default"');
  });

  it('names the same plugin id and provider as the entry', () => {
    const manifest = buildManifest(OPTIONS);
    expect(manifest.id).toBe(entry.id);
    expect(manifest.providers).toEqual([PROVIDER_ID]);
    expect(manifest.activation).toEqual({ onStartup: true });
  });

  it('marks secret options sensitive', () => {
    const secrets = Object.entries(OPTIONS).filter(([, o]) => o.secret).map(([k]) => k);
    expect(Object.keys(buildManifest(OPTIONS).uiHints).sort()).toEqual(secrets.sort());
  });
});

describe('package.json openclaw block', () => {
  const pkg = JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
    files: string[];
    openclaw: { extensions: string[]; compat: { pluginApi: string } };
  };

  it('points OpenClaw at the compiled entry and ships the manifest', () => {
    expect(pkg.openclaw.extensions).toEqual(['./dist/openclaw-entry.js']);
    expect(pkg.openclaw.compat.pluginApi).toBe('>=2026.9.6');
    expect(pkg.files).toContain('openclaw.plugin.json');
  });
});
