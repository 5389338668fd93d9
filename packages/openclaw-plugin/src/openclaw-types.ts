/**
 * The slice of OpenClaw's plugin API that openclaw-entry.ts uses, transcribed from the typings of
 * openclaw@2026.9.6 (dist/plugin-sdk/plugin-entry.d.ts and the chunk it re-exports:
 * OpenClawPluginApi, OpenClawPluginService, OpenClawPluginServiceContext, ProviderPlugin,
 * ProviderWrapStreamFnContext, ProviderResolveTransportTurnStateContext, PluginLogger). Local
 * copies keep the ~650 MB openclaw package out of our dependencies; OpenClaw passes richer
 * objects, of which only these fields are read. test/openclaw exercises them against the real host.
 */

/** Logger handed to plugins and services; `debug` is optional in OpenClaw's type. */
export interface PluginLogger {
  debug?: (message: string) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}

/** How a plugin module was loaded. Only "full" (gateway run, agent turns) may start background work. */
export type PluginRegistrationMode = 'full' | 'discovery' | 'tool-discovery' | 'setup-only' | 'setup-runtime' | 'cli-metadata';

/** Also carries OpenClaw's config, state and workspace dirs, which the gateway does not need. */
export interface PluginServiceContext {
  logger: PluginLogger;
}

/** Started by `openclaw gateway run` after it listens; stopped on its shutdown (SIGTERM/SIGINT). */
export interface PluginService {
  id: string;
  start: (ctx: PluginServiceContext) => void | Promise<void>;
  stop?: (ctx: PluginServiceContext) => void | Promise<void>;
}

/** Per-request options of OpenClaw's model transport; `headers` are merged into the HTTP request. */
export interface StreamOptions {
  headers?: Record<string, string>;
  [option: string]: unknown;
}

export type StreamFn = (model: unknown, context: unknown, options?: StreamOptions) => unknown;

/** Called once per prepared model of an agent run. */
export interface WrapStreamFnContext {
  provider: string;
  modelId: string;
  agentId?: string;
  /** The agent's workspace (`agents.defaults.workspace`, default ~/.openclaw/workspace). */
  workspaceDir?: string;
  streamFn?: StreamFn;
}

/** Called for every model request (each retry too) of a turn. */
export interface ResolveTransportTurnStateContext {
  provider: string;
  modelId: string;
  /** OpenClaw's session id: stable across the turns of one conversation until /new or a reset. */
  sessionId?: string;
  turnId: string;
  attempt: number;
  transport: 'stream' | 'websocket';
}

export interface TransportTurnState {
  headers?: Record<string, string>;
}

export interface ProviderPlugin {
  id: string;
  label: string;
  /** Auth methods offered by `openclaw onboard`; the gateway is local and needs none. */
  auth: unknown[];
  wrapStreamFn?: (ctx: WrapStreamFnContext) => StreamFn | null | undefined;
  resolveTransportTurnState?: (ctx: ResolveTransportTurnStateContext) => TransportTurnState | null | undefined;
}

export interface PluginApi {
  registrationMode: PluginRegistrationMode;
  /** `plugins.entries.<id>.config` from openclaw.json, already validated against the manifest schema. */
  pluginConfig?: Record<string, unknown>;
  logger: PluginLogger;
  registerService: (service: PluginService) => void;
  registerProvider: (provider: ProviderPlugin) => void;
}

/** What the module named in package.json `openclaw.extensions` exports by default. */
export interface PluginDefinition {
  id: string;
  name: string;
  description: string;
  register: (api: PluginApi) => void;
}
