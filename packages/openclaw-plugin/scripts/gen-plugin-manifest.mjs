#!/usr/bin/env node
/**
 * Writes openclaw.plugin.json, the manifest OpenClaw reads before loading the plugin, with a
 * `configSchema` generated from the option table in src/config.ts. OpenClaw validates
 * `plugins.entries.synthesis-agent.config` against it, so every gateway option is settable there
 * and nothing else is. test/unit/openclaw-manifest.test.ts fails when the committed file drifts
 * from the table. Run after `tsc -b` (it reads dist/config.js):
 *
 *   node packages/openclaw-plugin/scripts/gen-plugin-manifest.mjs
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const MANIFEST_PATH = path.join(root, 'openclaw.plugin.json');

/** The provider id whose requests the plugin's hooks decorate; models.providers must use it too. */
export const PROVIDER_ID = 'synthesis';

/**
 * `config` names a JSON file for the CLI; in OpenClaw the plugin's config block is that file, so a
 * second source would only make precedence ambiguous.
 */
const CLI_ONLY = new Set(['config']);

/**
 * One option's JSON Schema: its input shape (what a user writes), without `$schema` (only valid at
 * the root) and without `default`. Defaults stay out on purpose: `validateConfig` fills them when
 * the service starts, and some (workspace = cwd, stateDir = home) would otherwise be frozen to the
 * build machine's values.
 */
function optionSchema(spec) {
  const { $schema: _schema, default: _default, ...schema } = z.toJSONSchema(spec.schema, { io: 'input' });
  return { ...schema, description: spec.describe };
}

/** @param {Record<string, {schema: import('zod').ZodType, describe: string, secret?: boolean}>} options */
export function buildManifest(options) {
  const entries = Object.entries(options).filter(([key]) => !CLI_ONLY.has(key));
  return {
    id: 'synthesis-agent',
    name: 'SynthesisAgent',
    description: 'Serves long-lived Claude Code sessions as the OpenAI-compatible provider "synthesis"',
    providers: [PROVIDER_ID],
    activation: { onStartup: true },
    uiHints: Object.fromEntries(entries.filter(([, spec]) => spec.secret).map(([key]) => [key, { sensitive: true }])),
    configSchema: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(entries.map(([key, spec]) => [key, optionSchema(spec)])),
    },
  };
}

export function manifestText(options) {
  return `${JSON.stringify(buildManifest(options), null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { OPTIONS } = await import(path.join(root, 'dist', 'config.js'));
  writeFileSync(MANIFEST_PATH, manifestText(OPTIONS));
  process.stdout.write(`wrote ${path.relative(process.cwd(), MANIFEST_PATH)}\n`);
}
