/**
 * Gateway configuration. One table drives everything: each option's flag, env variable, default,
 * help text and validation live in a single entry, so `--help`, `config`, the env reader, the
 * config-file reader and the zod schema can never disagree.
 *
 * Precedence: built-in default < config file (--config) < env (SYNTHESIS_*) < command-line flag.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

type Kind = 'string' | 'int' | 'bool' | 'list';

interface OptionSpec<S extends z.ZodType = z.ZodType> {
  kind: Kind;
  schema: S;
  describe: string;
  /** Printed as `<redacted>` by `synthesis-agent config` and never logged. */
  secret?: boolean;
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'])]).transform(
  (v) => v === true || v === 'true' || v === '1' || v === 'on' || v === 'yes',
);
const list = z.array(z.string().min(1));
const port = int(0, 65535);

function opt<S extends z.ZodType>(kind: Kind, schema: S, describe: string, secret = false): OptionSpec<S> {
  return { kind, schema, describe, secret };
}

/** The XDG cache dir, as other tools on the machine use it; shared by every gateway of this user. */
function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.cache'), 'synthesis-agent');
}

export const OPTIONS = {
  config: opt('string', z.string().optional(), 'JSON config file validated by the same schema as flags'),
  host: opt('string', z.string().min(1).default('127.0.0.1'), 'HTTP listen address'),
  port: opt('int', port.default(18900), 'HTTP port for /v1/chat/completions, /ws and the UI (0 = any free port)'),
  bridgePort: opt('int', port.default(18901), 'WebSocket bridge port for claude-plugin connections (0 = any free port)'),
  claudeCommand: opt('string', z.string().min(1).default('claude'), 'program with Claude Code\'s CLI surface'),
  claudeArg: opt('list', list.default([]), 'extra argument appended to every Claude launch'),
  workspace: opt('string', z.string().min(1).default(process.cwd()), 'default working directory of Claude sessions'),
  heartbeatMs: opt('int', int(10).default(30_000), 'interval of empty SSE deltas that keep clients\' idle watchdogs alive'),
  pingMs: opt('int', int(10).default(30_000), 'bridge ping interval; a plugin missing 2 pongs is disconnected'),
  startTimeoutMs: opt('int', int(100).default(60_000), 'how long a Claude session may take to become ready'),
  turnTimeoutMs: opt('int', int(100).default(900_000), 'how long a turn may wait for its final reply'),
  queueDepth: opt('int', int(0, 10_000).default(8), 'turns that may wait behind a busy session before 429'),
  maxSessions: opt('int', int(1, 100_000).default(16), 'live Claude processes; idle ones are evicted LRU beyond this'),
  idleTimeoutMs: opt('int', int(0).default(1_800_000), 'stop a session\'s Claude process after this idle time (0 = never)'),
  stateDir: opt('string', z.string().min(1).default(path.join(homedir(), '.synthesis-agent')), 'directory for the session map, keys and other state'),
  cacheDir: opt('string', z.string().min(1).default(defaultCacheDir()), 'directory for files the gateway can rebuild (the claude-plugin startup snapshot)'),
  historyBootstrap: opt('string', z.enum(['on', 'off']).default('on'), 'replay earlier turns into a fresh session (on|off)'),
  historyMaxChars: opt('int', int(0).default(24_000), 'size bound of a history bootstrap transcript (oldest dropped first)'),
  deliverLateReplies: opt('bool', bool.default(false), 'prepend a reply whose caller went away to the session\'s next answer'),
  systemPrompt: opt('string', z.enum(['ignore', 'append']).default('ignore'), 'what to do with the request\'s system message (ignore|append)'),
  trustWorkspace: opt('list', list.default([]), 'workspace whose trust dialog the launcher may answer'),
  maxBodyBytes: opt('int', int(1024).default(8 * 1024 * 1024), 'largest accepted HTTP request body'),
  logLevel: opt('string', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), 'log level'),
  logFormat: opt('string', z.enum(['pretty', 'json']).default('json'), 'log format (pretty|json)'),
  apiKey: opt('string', z.string().min(1).optional(), 'require "Authorization: Bearer <key>" on the OpenAI routes', true),
  allowedHost: opt('list', list.default([]), 'extra Host header name accepted besides loopback names'),
  permissions: opt('string', z.enum(['relay', 'deny', 'allow-listed']).default('relay'), 'how Claude\'s permission requests are answered'),
  permissionAllow: opt('list', list.default([]), 'tool name pattern allowed without asking in relay and allow-listed modes (* wildcard; see docs/permissions.md)'),
  permissionTtlMs: opt('int', int(1000).default(600_000), 'how long a relayed permission request can be answered'),
  replyMode: opt('string', z.enum(['buffered', 'live']).default('buffered'), 'send progress chunks as they arrive (live) or with the final reply (buffered)'),
  webAuth: opt('string', z.enum(['pairing', 'token']).default('pairing'), 'webchannel auth mode (pairing|token)'),
  webToken: opt('string', z.string().min(1).optional(), 'webchannel local message token (token mode)', true),
  pairingCodeTtlS: opt('int', int(60, 300).default(300), 'lifetime of a webchannel pairing code in seconds'),
  uiTokenTtlS: opt('int', int(300, 2_592_000).default(604_800), 'lifetime of a webchannel access token in seconds'),
  e2eRequired: opt('bool', bool.default(false), 'refuse plaintext webchannel messages once paired'),
  webOrigin: opt('list', list.default([]), 'extra Origin allowed on /ws besides the gateway\'s own'),
  reasoningUrl: opt('string', z.string().url().optional(), 'reasoning backend base URL (enables the reasoning-job channel)'),
  reasoningIntegrationId: opt('string', z.string().min(1).optional(), 'reasoning backend integration id'),
  reasoningRelayToken: opt('string', z.string().min(1).optional(), 'reasoning backend relay token', true),
  reasoningProviderKind: opt('string', z.string().min(1).default('openclaw'), 'provider_kind this gateway serves'),
  reasoningBackendPub: opt('string', z.string().min(1).optional(), 'backend X25519 public key (base64url) for BYO encryption'),
  reasoningHkdfInfo: opt('string', z.string().default('stagewhisper-byo-v1'), 'HKDF info label of the BYO key derivation'),
  reasoningCompletePath: opt('string', z.string().default('/api/v1/openclaw/integrations/{id}/jobs/{job_id}/complete'), 'job completion endpoint path'),
  reasoningHeartbeatMs: opt('int', int(100).default(30_000), 'reasoning backend heartbeat interval'),
} satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;

export const ConfigSchema = z.strictObject(
  Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, o.schema])) as {
    [K in OptionKey]: (typeof OPTIONS)[K]['schema'];
  },
);

export type GatewayConfig = z.output<typeof ConfigSchema>;
export type GatewayConfigInput = z.input<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `bridgePort` → `--bridge-port`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `bridgePort` → `SYNTHESIS_BRIDGE_PORT`. */
export function envName(key: string): string {
  return `SYNTHESIS_${flagName(key).replace(/-/g, '_').toUpperCase()}`;
}

const LIST_SEPARATOR = ',';

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(OPTIONS) as [OptionKey, OptionSpec][]) {
    const value = env[envName(key)];
    if (value === undefined || value === '') continue;
    out[key] = spec.kind === 'list' ? value.split(LIST_SEPARATOR).map((s) => s.trim()).filter(Boolean) : value;
  }
  return out;
}

function fromArgv(argv: string[]): Record<string, unknown> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const [key, spec] of Object.entries(OPTIONS) as [OptionKey, OptionSpec][]) {
    options[flagName(key)] = spec.kind === 'bool' ? { type: 'boolean' } : { type: 'string', multiple: spec.kind === 'list' };
  }
  // `--claude-arg --model` must pass `--model` through: node's parser refuses values that look
  // like flags unless written `--claude-arg=--model`, so join every value-taking flag with its value.
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    if (options[name]?.type === 'string' && i + 1 < argv.length) joined.push(`${arg}=${argv[++i]}`);
    else joined.push(arg);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: joined, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(OPTIONS)) {
    const value = parsed.values[flagName(key)];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function fromFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    const json: unknown = JSON.parse(text);
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('expected a JSON object');
    return json as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid: ${(err as Error).message}`);
  }
}

/** Validates a merged raw config; throws ConfigError naming every bad field and where it came from. */
export function validateConfig(raw: Record<string, unknown>): GatewayConfig {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const where = key in OPTIONS ? ` (--${flagName(key)} / ${envName(key)})` : '';
      return `${issue.path.join('.') || '(config)'}${where}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return result.data;
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const flags = fromArgv(argv);
  const envValues = fromEnv(env);
  const file = (flags.config ?? envValues.config) as string | undefined;
  const merged = { ...(file ? fromFile(file) : {}), ...envValues, ...flags };
  return validateConfig(merged);
}

/** `--help` text, generated from the table. */
export function helpText(): string {
  const defaults = ConfigSchema.parse({});
  const rows = (Object.entries(OPTIONS) as [OptionKey, OptionSpec][]).map(([key, spec]) => {
    const value = defaults[key];
    const shown = spec.secret || value === undefined || (Array.isArray(value) && value.length === 0) ? '' : ` (default: ${String(value)})`;
    const arg = spec.kind === 'bool' ? '' : ' <value>';
    const repeat = spec.kind === 'list' ? ' (repeatable)' : '';
    return `  --${flagName(key)}${arg}\n      ${spec.describe}${repeat}${shown} [env ${envName(key)}]`;
  });
  return rows.join('\n');
}

/** The effective config with secrets replaced, for `synthesis-agent config` and start-up logs. */
export function redactConfig(config: GatewayConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(OPTIONS) as [OptionKey, OptionSpec][]) {
    const value = config[key];
    out[key] = spec.secret && value !== undefined ? '<redacted>' : value;
  }
  return out;
}
