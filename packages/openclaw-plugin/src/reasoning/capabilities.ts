/**
 * The capability profile: what this gateway can do, known without asking the model. It answers
 * capability_probe jobs and rides along in every heartbeat.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  REASONING_ENVELOPE_VERSION,
  REASONING_SCHEMA_VERSION,
  ReasoningPurposeSchema,
  type CapabilityProfile,
} from '@synthesis-agent/protocol';
import { VERSION } from '../version.js';


export interface CapabilityOptions {
  providerKind: string;
  workspace: string;
  byo: CapabilityProfile['byo'];
  claudeVersion?: () => Promise<string | undefined>;
}

/**
 * Skill names Claude Code would load for a session in `workspace`: directories holding a SKILL.md
 * under the user's skills (CLAUDE_CONFIG_DIR or ~/.claude) and the workspace's .claude/skills.
 */
export function discoverSkills(workspace: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = [path.join(env.CLAUDE_CONFIG_DIR ?? path.join(homedir(), '.claude'), 'skills'), path.join(workspace, '.claude', 'skills')];
  const names = new Set<string>();
  for (const root of roots) {
    let entries;
    try {
      entries = readdirSync(root, { withFileTypes: true });
    } catch {
      continue; // no skills directory there
    }
    for (const entry of entries) {
      if (entry.isDirectory() && existsSync(path.join(root, entry.name, 'SKILL.md'))) names.add(entry.name);
    }
  }
  return [...names].sort();
}

/** Returns the profile builder; `claude --version` is asked until it first answers, then kept. */
export function capabilityProfiler(options: CapabilityOptions): () => Promise<CapabilityProfile> {
  let claudeVersion: string | undefined;
  return async () => {
    claudeVersion ??= await options.claudeVersion?.().catch(() => undefined);
    return {
      provider_kind: options.providerKind,
      gateway_version: VERSION,
      claude_code_version: claudeVersion ?? null,
      protocol: { schema_versions: [REASONING_SCHEMA_VERSION], envelope_versions: [REASONING_ENVELOPE_VERSION] },
      purposes: ReasoningPurposeSchema.options,
      byo: options.byo,
      skills: discoverSkills(options.workspace),
    };
  };
}
