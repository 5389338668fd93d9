/**
 * Real OpenClaw with our plugin: `openclaw plugins install <packages/openclaw-plugin> --link`,
 * then `openclaw gateway run`. The plugin's service must start our gateway inside OpenClaw (from
 * `plugins.entries.synthesis-agent.config`), its provider hooks must put the X-Openclaw-* headers
 * on a turn sent through OpenClaw's gateway, and SIGTERM to OpenClaw must stop our gateway and its
 * Claude processes with it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CLAUDE, ROOT, type HealthReport } from '../helpers/gateway.js';
import { isAlive, killQuietly, waitForExit } from '../helpers/processes.js';
import { OPENCLAW_VERSION } from './install-openclaw.mjs';
import {
  createOpenClawHome,
  freePort,
  killAllOpenClaw,
  parseAgentJson,
  prepareOpenClaw,
  runOpenClaw,
  startOpenClawGateway,
  type OpenClawGateway,
  type OpenClawHome,
} from './openclaw.js';

const PLUGIN_DIR = path.join(ROOT, 'packages/openclaw-plugin');
const IDENTITY_HEADERS = ['x-openclaw-agent-id', 'x-openclaw-chat-id', 'x-openclaw-workspace'] as const;

const { install, skip } = await prepareOpenClaw();
if (skip) console.warn(`openclaw suite skipped: ${skip}`);

/**
 * A pass-through proxy in front of our gateway that remembers the identity headers of every
 * request, so the test sees what OpenClaw actually sent rather than what the gateway inferred.
 */
function headerRecorder(targetPort: number) {
  const seen: Record<string, string | undefined>[] = [];
  const server = http.createServer((req, res) => {
    seen.push(Object.fromEntries(IDENTITY_HEADERS.map((h) => [h, req.headers[h] as string | undefined])));
    const upstream = http.request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const listening = new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { seen, listening, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function healthz(port: number): Promise<HealthReport> {
  return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as HealthReport;
}

/** Polls until our gateway answers /healthz: the plugin service starts it after OpenClaw's own start-up. */
async function waitForHealthz(port: number, timeoutMs = 60_000): Promise<HealthReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await healthz(port);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`gateway on port ${port} not answering after ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe.skipIf(!install)(`openclaw ${OPENCLAW_VERSION} gateway run with the synthesis-agent plugin${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let home: OpenClawHome;
  let stateDir: string;
  let gatewayPort: number;
  let recorder: ReturnType<typeof headerRecorder>;
  let openclaw: OpenClawGateway | undefined;
  const claudePids: number[] = [];

  beforeAll(async () => {
    gatewayPort = await freePort();
    recorder = headerRecorder(gatewayPort);
    const recorderPort = await recorder.listening;
    stateDir = mkdtempSync(path.join(tmpdir(), 'synthesis-state-'));
    home = createOpenClawHome(
      {
        baseUrl: `http://127.0.0.1:${recorderPort}/v1`,
        apiKey: 'local',
        api: 'openai-completions',
        models: [{ id: 'claude-code', name: 'Claude Code', contextWindow: 200_000, maxTokens: 32_000 }],
      },
      // `openclaw agent` without --local reaches the gateway through this same config.
      { gateway: { mode: 'local', bind: 'loopback', port: await freePort(), auth: { mode: 'token', token: randomUUID() } } },
    );
  });

  afterAll(async () => {
    killAllOpenClaw();
    for (const pid of claudePids) killQuietly(pid);
    await recorder?.close();
    home?.dispose();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('installs with `openclaw plugins install --link` and takes its config from openclaw.json', async () => {
    const installed = await runOpenClaw(install!, home.home, ['plugins', 'install', PLUGIN_DIR, '--link', '--force', '--accept-capabilities']);
    expect(installed.code, installed.stdout + installed.stderr).toBe(0);
    const config = { port: gatewayPort, bridgePort: await freePort(), claudeCommand: FAKE_CLAUDE, stateDir, logLevel: 'debug' };
    // `config set` validates against the manifest's configSchema, so this also checks the schema.
    const set = await runOpenClaw(install!, home.home, ['config', 'set', 'plugins.entries.synthesis-agent.config', JSON.stringify(config), '--strict-json']);
    expect(set.code, set.stdout + set.stderr).toBe(0);
  });

  it('starts our gateway as a service of `openclaw gateway run`', async () => {
    openclaw = await startOpenClawGateway(install!, home.home);
    const health = await waitForHealthz(gatewayPort);
    expect(health.sessions).toEqual([]);
    // Our pino lines reach OpenClaw's logger.
    await openclaw.waitForLine(/SynthesisAgent gateway ready/);
  });

  it('sends the X-Openclaw-* headers with a turn routed through OpenClaw', async () => {
    const turn = parseAgentJson(await runOpenClaw(install!, home.home, ['agent', '--agent', 'main', '--message', 'through the gateway', '--json']));
    expect(turn.text).toContain('through the gateway');
    const { sessions } = await healthz(gatewayPort);
    expect(sessions).toHaveLength(1);
    claudePids.push(sessions[0]!.pid!);

    const workspace = path.join(home.home, '.openclaw', 'workspace');
    expect(recorder.seen.length).toBeGreaterThan(0);
    for (const headers of recorder.seen) {
      expect(headers).toEqual({ 'x-openclaw-agent-id': 'main', 'x-openclaw-chat-id': turn.sessionId, 'x-openclaw-workspace': workspace });
    }
    expect(sessions[0]).toMatchObject({ key: `main::${turn.sessionId}`, workspace });
  });

  it('stops our gateway and its Claude processes when OpenClaw gets SIGTERM', async () => {
    expect(claudePids).toHaveLength(1);
    expect(isAlive(claudePids[0]!)).toBe(true);
    const code = await openclaw!.terminate();
    expect(code, openclaw!.output().slice(-4000)).toBe(0);
    expect(openclaw!.output()).toMatch(/gateway stopped/);
    await expect(healthz(gatewayPort)).rejects.toThrow();
    await waitForExit(claudePids, 5000);
  });
});
