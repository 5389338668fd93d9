/**
 * OpenClaw plugin entry (package.json `openclaw.extensions`). Two jobs:
 *
 * - a service that runs the gateway inside `openclaw gateway run`, through the same
 *   `validateConfig` + `startGateway` the CLI uses, configured by
 *   `plugins.entries.synthesis-agent.config`;
 * - hooks on the provider "synthesis" that add the wire protocol's identity headers to every
 *   request, because OpenClaw itself sends none of them (shared/specs/openclaw-facts.md).
 *
 * OpenClaw still needs a `models.providers.synthesis` entry pointing at the gateway: a provider
 * known only from a plugin does not serve turns (docs/openclaw-setup.md).
 */
import { Writable } from 'node:stream';
import { validateConfig } from './config.js';
import { startGateway, type RunningGateway } from './gateway.js';
import { createLogger } from './logger.js';
import type { PluginApi, PluginDefinition, PluginLogger, StreamFn } from './openclaw-types.js';

/** Must match `providers` in openclaw.plugin.json and the key under `models.providers`. */
export const PROVIDER_ID = 'synthesis';

export const HEADER_AGENT_ID = 'X-Openclaw-Agent-Id';
export const HEADER_CHAT_ID = 'X-Openclaw-Chat-Id';
export const HEADER_WORKSPACE = 'X-Openclaw-Workspace';

/**
 * A pino destination that hands each JSON log line to OpenClaw's logger at the matching level, so
 * gateway logs land in OpenClaw's console and log file instead of a stderr nobody reads.
 */
export function pluginLogDestination(logger: PluginLogger): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        forwardLine(logger, pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
      callback();
    },
  });
}

function forwardLine(logger: PluginLogger, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    logger.info(line);
    return;
  }
  // pino's bookkeeping fields; OpenClaw stamps its own time and subsystem.
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, name: _name, ...fields } = record;
  const text = `${typeof msg === 'string' ? msg : ''}${Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}`;
  const n = typeof level === 'number' ? level : 30;
  if (n >= 50) logger.error(text);
  else if (n >= 40) logger.warn(text);
  else if (n >= 30) logger.info(text);
  else logger.debug?.(text);
}

/** Wraps OpenClaw's transport so each request names the agent and its workspace. */
export function withAgentHeaders(inner: StreamFn, agentId: string | undefined, workspaceDir: string | undefined): StreamFn {
  const added: Record<string, string> = {};
  if (agentId) added[HEADER_AGENT_ID] = agentId;
  if (workspaceDir) added[HEADER_WORKSPACE] = workspaceDir;
  return (model, context, options) => inner(model, context, { ...options, headers: { ...options?.headers, ...added } });
}

export function register(api: PluginApi): void {
  api.registerProvider({
    id: PROVIDER_ID,
    label: 'SynthesisAgent (Claude Code)',
    auth: [],
    // Runs once per prepared model; the only hook that knows the agent and its workspace.
    wrapStreamFn: (ctx) => (ctx.streamFn ? withAgentHeaders(ctx.streamFn, ctx.agentId, ctx.workspaceDir) : undefined),
    // Runs for every request including retries; OpenClaw's session id is the chat id.
    resolveTransportTurnState: (ctx) => (ctx.sessionId ? { headers: { [HEADER_CHAT_ID]: ctx.sessionId } } : null),
  });

  // Discovery, setup and CLI-metadata loads happen next to the full load in the same process and
  // only read what the plugin declares; OpenClaw's contract is that they register no services.
  if (api.registrationMode !== 'full') return;

  let gateway: RunningGateway | undefined;
  api.registerService({
    id: 'synthesis-agent-gateway',
    async start(ctx) {
      const config = validateConfig(api.pluginConfig ?? {});
      const logger = createLogger({ logLevel: config.logLevel, logFormat: 'json' }, pluginLogDestination(ctx.logger));
      gateway = await startGateway(config, { logger });
    },
    async stop() {
      const running = gateway;
      gateway = undefined;
      await running?.close();
    },
  });
}

const entry: PluginDefinition = {
  id: 'synthesis-agent',
  name: 'SynthesisAgent',
  description: 'Serves long-lived Claude Code sessions to OpenClaw as the provider "synthesis"',
  register,
};

export default entry;
