/**
 * How a session's Claude process is launched: flags, env, and the generated --mcp-config that
 * registers our claude-plugin as the channel server.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ClaudeLaunch } from './process-manager.js';

/** The MCP server name; Claude shows channel messages as `<channel source="synthesis" …>`. */
export const CHANNEL_SERVER_NAME = 'synthesis';
export const REPLY_TOOL = `mcp__${CHANNEL_SERVER_NAME}__reply`;

const require = createRequire(import.meta.url);
// The plugin's bundle, launched when there is no startup snapshot: loading one file instead of
// ~290 modules is most of a plain start-up (docs/performance.md).
const pluginEntry = require.resolve('@synthesis-agent/claude-plugin/bundle');
const turnEndHook = require.resolve('@synthesis-agent/claude-plugin/turn-end-hook');
/** The script the plugin's startup snapshot is built from (plugin-snapshot.ts). */
export const pluginSnapshotScript = require.resolve('@synthesis-agent/claude-plugin/snapshot');

/**
 * Env for the Node processes Claude starts for us (the plugin, the Stop hook), over Claude's own.
 * Both talk only to the bridge on loopback without TLS, yet Node 20 reads and parses every
 * certificate named by NODE_EXTRA_CA_CERTS before running any code (~130 ms and 2 MiB per process
 * where it is set, docs/performance.md); an empty value skips that. Claude itself keeps the
 * variable: it needs it for the API. NODE_OPTIONS is emptied because a startup snapshot loads
 * only under the V8 flags it was built with, and it is built with none.
 */
export const PLUGIN_NODE_ENV = { NODE_EXTRA_CA_CERTS: '', NODE_OPTIONS: '' };

const shellQuote = (part: string) => `'${part.replace(/'/g, `'\\''`)}'`;

/**
 * Claude Code runs Stop hooks when a turn is over; ours tells the gateway, which holds the next
 * channel message until then (a message sent earlier would become a side note of this turn).
 * The hook reads the bridge token from the session's MCP config file (mode 0600), so the token
 * is neither on a command line nor in Claude's environment.
 */
function hookSettings(mcpConfigFile: string): string {
  const env = Object.entries(PLUGIN_NODE_ENV).map(([key, value]) => `${key}=${shellQuote(value)}`);
  const command = [...env, ...[process.execPath, turnEndHook, mcpConfigFile].map(shellQuote)].join(' ');
  return JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: 'command', command, timeout: 10 }] }] } });
}

export interface LaunchPlan {
  sessionKey: string;
  claudeSessionId: string;
  /** `--resume` an existing Claude transcript instead of starting `--session-id`. */
  resume: boolean;
  workspace: string;
  systemPrompt?: string | undefined;
}

export interface LaunchSettings {
  claudeCommand: string;
  claudeArgs: string[];
  bridgeUrl: string;
  runDir: string;
  trustWorkspaces: string[];
  env: NodeJS.ProcessEnv;
  /** The plugin's startup snapshot (plugin-snapshot.ts); without it the plugin starts from its bundle. */
  pluginSnapshot?: string | undefined;
}

export interface PreparedLaunch {
  launch: ClaudeLaunch;
  /** Secret the plugin must present in hello; proves this gateway spawned it. */
  token: string;
  /** Removes the generated config (it holds the token). */
  cleanup(): void;
}

export function prepareLaunch(plan: LaunchPlan, settings: LaunchSettings): PreparedLaunch {
  const token = randomBytes(32).toString('base64url');
  const channelEnv = {
    SYNTHESIS_WS_URL: settings.bridgeUrl,
    SYNTHESIS_OPENCLAW_SESSION: plan.sessionKey,
    SYNTHESIS_CLAUDE_SESSION: plan.claudeSessionId,
  };
  mkdirSync(settings.runDir, { recursive: true, mode: 0o700 });
  const mcpConfigFile = path.join(settings.runDir, `mcp-${plan.claudeSessionId}-${process.pid}.json`);
  const mcpConfig = {
    // Only the server registered here gets the token: another copy of the plugin that Claude
    // might also load (a user-scope Claude Code plugin) cannot pass for this session's channel.
    mcpServers: {
      [CHANNEL_SERVER_NAME]: {
        command: process.execPath,
        args: pluginArgs(settings.pluginSnapshot),
        env: { ...PLUGIN_NODE_ENV, ...channelEnv, SYNTHESIS_BRIDGE_TOKEN: token },
      },
    },
  };
  writeFileSync(mcpConfigFile, JSON.stringify(mcpConfig, null, 2), { mode: 0o600 });

  const args = [
    '--mcp-config',
    mcpConfigFile,
    '--dangerously-load-development-channels',
    `server:${CHANNEL_SERVER_NAME}`,
    '--allowedTools',
    REPLY_TOOL,
    '--settings',
    hookSettings(mcpConfigFile),
    plan.resume ? '--resume' : '--session-id',
    plan.claudeSessionId,
    ...(plan.systemPrompt ? ['--append-system-prompt', plan.systemPrompt] : []),
    ...settings.claudeArgs,
  ];

  return {
    token,
    launch: {
      command: settings.claudeCommand,
      args,
      cwd: plan.workspace,
      env: { ...inheritedEnv(settings.env), ...channelEnv, ENABLE_TOOL_SEARCH: settings.env.ENABLE_TOOL_SEARCH ?? 'false' },
      trustWorkspace: settings.trustWorkspaces.some((dir) => path.resolve(dir) === path.resolve(plan.workspace)),
    },
    cleanup: () => rmSync(mcpConfigFile, { force: true }),
  };
}

/** A snapshot removed since the gateway started (a cleared cache) must not fail the session. */
function pluginArgs(snapshot: string | undefined): string[] {
  return snapshot && existsSync(snapshot) ? ['--snapshot-blob', snapshot] : [pluginEntry];
}

/**
 * The gateway's env minus its own SYNTHESIS_* settings: those may hold secrets (API key, relay
 * token) that Claude and the tools it runs have no business seeing.
 */
function inheritedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.startsWith('SYNTHESIS_')) out[key] = value;
  }
  return out;
}
