/**
 * The plugin entry against a recording stand-in for OpenClaw's api: which hooks and services it
 * registers per load mode, the headers its hooks add, and a service start/stop that runs the real
 * gateway (no Claude is launched until a request arrives).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../packages/openclaw-plugin/src/config.js';
import entry, { pluginLogDestination } from '../../packages/openclaw-plugin/src/openclaw-entry.js';
import type {
  PluginApi,
  PluginLogger,
  PluginRegistrationMode,
  PluginService,
  ProviderPlugin,
  StreamOptions,
} from '../../packages/openclaw-plugin/src/openclaw-types.js';

function recordingLogger() {
  const lines: { level: string; text: string }[] = [];
  const logger: PluginLogger = {
    debug: (text) => lines.push({ level: 'debug', text }),
    info: (text) => lines.push({ level: 'info', text }),
    warn: (text) => lines.push({ level: 'warn', text }),
    error: (text) => lines.push({ level: 'error', text }),
  };
  return { lines, logger };
}

function load(mode: PluginRegistrationMode, pluginConfig?: Record<string, unknown>) {
  const providers: ProviderPlugin[] = [];
  const services: PluginService[] = [];
  const api: PluginApi = {
    registrationMode: mode,
    pluginConfig,
    logger: recordingLogger().logger,
    registerProvider: (p) => providers.push(p),
    registerService: (s) => services.push(s),
  };
  entry.register(api);
  return { providers, services };
}

describe('provider hooks', () => {
  const [provider] = load('full').providers;

  it('registers the provider id the manifest declares, without auth', () => {
    expect(provider).toMatchObject({ id: 'synthesis', auth: [] });
  });

  it('adds the agent and workspace headers while keeping the caller’s own', () => {
    const calls: (StreamOptions | undefined)[] = [];
    const inner = (_model: unknown, _context: unknown, options?: StreamOptions) => calls.push(options);
    const wrapped = provider!.wrapStreamFn!({ provider: 'synthesis', modelId: 'claude-code', agentId: 'ops', workspaceDir: '/w/ops', streamFn: inner });
    wrapped!('model', 'context', { headers: { 'X-Other': '1' }, sessionId: 's' });
    expect(calls[0]).toEqual({
      sessionId: 's',
      headers: { 'X-Other': '1', 'X-Openclaw-Agent-Id': 'ops', 'X-Openclaw-Workspace': '/w/ops' },
    });
  });

  it('sends no empty header when OpenClaw does not know the agent or workspace', () => {
    const calls: (StreamOptions | undefined)[] = [];
    const wrapped = provider!.wrapStreamFn!({ provider: 'synthesis', modelId: 'm', streamFn: (_m, _c, o) => calls.push(o) });
    wrapped!('model', 'context');
    expect(calls[0]).toEqual({ headers: {} });
  });

  it('leaves the transport alone when there is nothing to wrap', () => {
    expect(provider!.wrapStreamFn!({ provider: 'synthesis', modelId: 'm' })).toBeUndefined();
  });

  it('names the OpenClaw session as the chat on every request', () => {
    const ctx = { provider: 'synthesis', modelId: 'm', turnId: 't', attempt: 2, transport: 'stream' as const };
    expect(provider!.resolveTransportTurnState!({ ...ctx, sessionId: 'uuid-1' })).toEqual({ headers: { 'X-Openclaw-Chat-Id': 'uuid-1' } });
    expect(provider!.resolveTransportTurnState!(ctx)).toBeNull();
  });
});

describe('load modes', () => {
  it('registers the gateway service only for a full load', () => {
    expect(load('full').services.map((s) => s.id)).toEqual(['synthesis-agent-gateway']);
    for (const mode of ['discovery', 'tool-discovery', 'setup-only', 'setup-runtime', 'cli-metadata'] as const) {
      const { providers, services } = load(mode);
      expect(services, mode).toEqual([]);
      expect(providers, mode).toHaveLength(1);
    }
  });
});

describe('gateway service', () => {
  let stateDir: string | undefined;
  afterEach(() => {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts the gateway from the plugin config and stops it, logging through OpenClaw', async () => {
    stateDir = mkdtempSync(path.join(tmpdir(), 'synthesis-plugin-'));
    const [service] = load('full', { port: 0, bridgePort: 0, stateDir }).services;
    const { lines, logger } = recordingLogger();
    const ctx = { logger };
    await service!.start(ctx);
    const ready = lines.find((l) => l.text.includes('gateway ready'));
    expect(ready?.level).toBe('info');
    const httpUrl = /"httpUrl":"([^"]+)"/.exec(ready!.text)?.[1];
    expect((await fetch(`${httpUrl}/healthz`)).ok).toBe(true);

    await service!.stop!(ctx);
    expect(lines.some((l) => l.text.includes('gateway stopped'))).toBe(true);
    await expect(fetch(`${httpUrl}/healthz`)).rejects.toThrow();
  });

  it('refuses to start on an invalid plugin config', async () => {
    const [service] = load('full', { port: 'not a port' }).services;
    await expect(service!.start({ logger: recordingLogger().logger })).rejects.toThrow(ConfigError);
  });
});

describe('log forwarding', () => {
  it('maps pino levels onto OpenClaw’s logger and keeps the structured fields', () => {
    const { lines, logger } = recordingLogger();
    const dest = pluginLogDestination(logger);
    dest.write(`${JSON.stringify({ level: 50, time: 1, pid: 2, hostname: 'h', name: 'synthesis-agent', msg: 'boom', session: 'main::x' })}\n`);
    dest.write(`${JSON.stringify({ level: 40, msg: 'careful' })}\n${JSON.stringify({ level: 20, msg: 'detail' })}\n`);
    dest.write('not json\n');
    expect(lines).toEqual([
      { level: 'error', text: 'boom {"session":"main::x"}' },
      { level: 'warn', text: 'careful' },
      { level: 'debug', text: 'detail' },
      { level: 'info', text: 'not json' },
    ]);
  });
});
