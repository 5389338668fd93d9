/**
 * A throwaway $HOME in which real Claude Code starts without first-run screens and without
 * touching the network, pointed at a fake Anthropic API. What each `.claude.json` key pre-answers
 * is measured in docs/claude-code.md; leaving one out (trust: false, …) brings its screen back,
 * which is how the screen tests provoke them.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SeedClaudeHomeOptions {
  /** Working directories Claude will be started in (trusted unless `trust: false`). */
  workspaces: string[];
  /** Becomes ANTHROPIC_API_KEY; any string works against the fake API. */
  apiKey: string;
  /** Becomes ANTHROPIC_BASE_URL (e.g. the fake API's url); may also be set on `env` later. */
  baseUrl?: string;
  /** Pre-accept the workspace-trust dialog for every workspace (default true). */
  trust?: boolean;
  /** Pre-approve the API key, skipping "Detected a custom API key" (default true). */
  approveKey?: boolean;
  /** Mark first-run onboarding (theme picker, security notes) done (default true). */
  onboarding?: boolean;
}

export interface ClaudeHome {
  /** The temporary directory holding everything below; removed by cleanup(). */
  root: string;
  home: string;
  /** $HOME/.claude.json as written. */
  configPath: string;
  /**
   * The complete environment for a Claude process: a hermetic base (PATH, LANG) plus HOME, TMPDIR,
   * the network-silencing switches and the API endpoint. Deliberately not merged with
   * process.env: a developer's own ANTHROPIC_API_KEY or CLAUDE_CONFIG_DIR would leak into tests.
   */
  env: Record<string, string>;
  cleanup(): void;
}

/**
 * Switches that stop Claude Code 2.1.330 from any traffic other than the Messages API (verified:
 * no DNS lookups). GB_DISK_CACHE_WHEN_TELEMETRY_OFF keeps the seeded feature-flag cache (which
 * enables channels) in force although non-essential traffic is off. ENABLE_TOOL_SEARCH=false puts
 * MCP tools straight into tools[] instead of behind a ToolSearch tool, so the fake model finds the
 * reply tool in the first request.
 */
export const QUIET_CLAUDE_ENV: Readonly<Record<string, string>> = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  CLAUDE_CODE_GB_DISK_CACHE_WHEN_TELEMETRY_OFF: '1',
  DISABLE_AUTOUPDATER: '1',
  CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
  ENABLE_TOOL_SEARCH: 'false',
};

/** Claude Code remembers an approved key by its last 20 characters. */
export function apiKeyFingerprint(apiKey: string): string {
  return apiKey.slice(-20);
}

export function seedClaudeHome(options: SeedClaudeHomeOptions): ClaudeHome {
  const { trust = true, approveKey = true, onboarding = true } = options;
  const root = mkdtempSync(path.join(tmpdir(), 'claude-home-'));
  const home = path.join(root, 'home');
  const tmp = path.join(root, 'tmp');
  mkdirSync(home);
  mkdirSync(tmp);

  const config: Record<string, unknown> = {
    // Channels sit behind the remote flag tengu_harbor, which is off without Anthropic
    // connectivity; a cached value is honoured (with GB_DISK_CACHE_WHEN_TELEMETRY_OFF).
    cachedGrowthBookFeatures: { tengu_harbor: true },
  };
  if (onboarding) config.hasCompletedOnboarding = true;
  if (trust) {
    // Claude Code looks up the resolved cwd; store the given spelling too in case a caller
    // passes a path through a symlink (/tmp on macOS).
    const projects: Record<string, { hasTrustDialogAccepted: true }> = {};
    for (const w of options.workspaces) {
      for (const p of new Set([path.resolve(w), realpathOr(w)])) projects[p] = { hasTrustDialogAccepted: true };
    }
    config.projects = projects;
  }
  if (approveKey) config.customApiKeyResponses = { approved: [apiKeyFingerprint(options.apiKey)], rejected: [] };
  const configPath = path.join(home, '.claude.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    // Claude Code keeps sockets and scratch files under $TMPDIR/claude-<uid>/; inside root they
    // go away with cleanup() and cannot collide between parallel tests.
    TMPDIR: tmp,
    ...QUIET_CLAUDE_ENV,
    ANTHROPIC_API_KEY: options.apiKey,
  };
  if (options.baseUrl) env.ANTHROPIC_BASE_URL = options.baseUrl;

  return {
    root,
    home,
    configPath,
    env,
    cleanup: () => rmSync(root, { recursive: true, force: true, maxRetries: 3 }),
  };
}

function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}
