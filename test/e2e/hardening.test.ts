/**
 * Hardening and observability of the real gateway CLI (fake Claude): who may use the bridge, the
 * HTTP guards (Host, API key, bind address), /metrics, per-turn log context and log formats.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TURN_END_PATH } from '@synthesis-agent/protocol';
import { CLI, FAKE_CLAUDE, ROOT, startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { postChat, readSse, user } from '../helpers/sse.js';

afterAll(stopAllGateways);

const API_KEY = 'hardening-test-key';
const AUTH = { authorization: `Bearer ${API_KEY}` };
/** GET with a Host header of our choosing (fetch does not let a caller set Host). */
function getWithHost(url: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { ...headers, host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** Connects to /bridge, sends one frame, and collects what comes back until the server closes. */
async function bridgeExchange(url: string, frame: unknown) {
  const ws = new WebSocket(url);
  const received: { type: string; code?: string }[] = [];
  ws.on('message', (data) => received.push(JSON.parse(String(data))));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await once(ws, 'open');
  ws.send(JSON.stringify(frame));
  return { received, code: await closed };
}

/** Value of one sample in Prometheus text, e.g. metric(text, 'synthesis_turns_total{outcome="ok",code=""}'). */
function metric(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

describe('gateway hardening', () => {
  let gw: TestGateway;
  const metrics = async () => (await fetch(`${gw.httpUrl}/metrics`, { headers: AUTH })).text();
  const chat = (chatId: string, content: string) =>
    gw.openai({ apiKey: API_KEY, headers: { 'X-Openclaw-Chat-Id': chatId } }).chat.completions.create({ model: 'm', messages: user(content) });

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--api-key', API_KEY, '--heartbeat-ms', '20'] });
  });
  afterAll(async () => {
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  describe('bridge admission', () => {
    let key: string;
    beforeAll(async () => {
      await chat('bridge', 'start a session');
      key = 'default::bridge';
    });

    it.each([
      ['without a token', {}],
      ['with a wrong token', { token: 'forged-token' }],
      ['with a token of the same length', { token: 'x'.repeat(43) }],
    ])('refuses a hello for a live session %s: unauthorized error, then close 1008', async (_label, token) => {
      const { received, code } = await bridgeExchange(gw.bridgeUrl, { type: 'hello', openclaw_session: key, claude_session: 'c', pid: 4242, ...token });
      expect(received).toEqual([expect.objectContaining({ type: 'error', code: 'unauthorized' })]);
      expect(code).toBe(1008);
    });

    it('refuses a hello for a session it never started', async () => {
      const unknown = await bridgeExchange(gw.bridgeUrl, { type: 'hello', openclaw_session: 'nobody::here', claude_session: 'c', pid: 1, token: 't' });
      expect(unknown.received).toEqual([expect.objectContaining({ type: 'error', code: 'unknown_session' })]);
      expect(unknown.code).toBe(1008);
    });

    it('refuses a forged turn end: wrong or no token 403, unknown session 404, a browser 403', async () => {
      const turnEndUrl = `http://127.0.0.1:${new URL(gw.bridgeUrl).port}${TURN_END_PATH}`;
      const post = (body: unknown, headers: Record<string, string> = {}) =>
        fetch(turnEndUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      for (const token of [{ token: 'forged-token' }, {}]) {
        const res = await post({ type: 'turn_end', openclaw_session: key, ...token });
        expect(res.status).toBe(403);
        expect(await res.json()).toMatchObject({ type: 'error', code: 'unauthorized' });
      }
      const unknown = await post({ type: 'turn_end', openclaw_session: 'nobody::here', token: 't' });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ type: 'error', code: 'unknown_session' });
      const browser = await post({ type: 'turn_end', openclaw_session: key, token: 't' }, { origin: 'http://evil.example' });
      expect(browser.status).toBe(403);
    });

    it('keeps serving the real plugin after forged attempts', async () => {
      const res = await chat('bridge', 'still here?');
      expect(res.choices[0]?.message.content).toBe('echo: still here?');
    });

    it.each(['http://evil.example', 'null', `http://127.0.0.1`])('refuses a WebSocket upgrade with Origin %s', async (origin) => {
      const ws = new WebSocket(gw.bridgeUrl, { origin });
      const [err] = (await once(ws, 'error')) as [Error];
      expect(err.message).toBe('Unexpected server response: 401');
    });
  });

  describe('HTTP guards', () => {
    it.each(['evil.example', 'evil.example:80', '127.0.0.1.evil.example', 'localhost.evil.example'])(
      'answers 421 to Host %s on every route',
      async (host) => {
        for (const route of ['/v1/models', '/healthz', '/metrics']) {
          const res = await getWithHost(`${gw.httpUrl}${route}`, host, AUTH);
          expect(res.status).toBe(421);
          expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
        }
      },
    );

    it('serves loopback Host names', async () => {
      const port = new URL(gw.httpUrl).port;
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
        expect((await getWithHost(`${gw.httpUrl}/v1/models`, host, AUTH)).status).toBe(200);
      }
    });

    it('requires the API key on the OpenAI routes: 401 without or with a wrong one, 200 with it', async () => {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: API_KEY }] as Record<string, string>[]) {
        const res = await fetch(`${gw.httpUrl}/v1/models`, { headers });
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
      }
      const refused = await postChat(gw.httpUrl, { model: 'm', messages: user('no key') });
      expect(refused.status).toBe(401);
      expect((await fetch(`${gw.httpUrl}/v1/models`, { headers: AUTH })).status).toBe(200);
    });
  });

  describe('/metrics', () => {
    const NAMES = [
      'synthesis_turns_total',
      'synthesis_turn_duration_seconds',
      'synthesis_queue_depth',
      'synthesis_live_sessions',
      'synthesis_claude_spawns_total',
      'synthesis_claude_crashes_total',
      'synthesis_claude_restarts_total',
      'synthesis_bridge_connections',
      'synthesis_sse_heartbeats_total',
    ];

    it('keeps /metrics and /healthz behind --api-key', async () => {
      for (const route of ['/metrics', '/healthz']) {
        const res = await fetch(`${gw.httpUrl}${route}`);
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
      }
    });

    it('serves every metric in Prometheus text format', async () => {
      const res = await fetch(`${gw.httpUrl}/metrics`, { headers: AUTH });
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      for (const name of NAMES) expect(text).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
    });

    it('moves turns, latency, spawns, sessions, connections and heartbeats with a streamed turn', async () => {
      const before = await metrics();
      const events = await readSse(await postChat(gw.httpUrl, { model: 'm', stream: true, messages: user('[[slow:150]] metered') }, { ...AUTH, 'X-Openclaw-Chat-Id': 'metered' }));
      expect(events.at(-1)).toBe('[DONE]');
      const after = await metrics();
      const delta = (sample: string) => metric(after, sample) - metric(before, sample);
      expect(delta('synthesis_turns_total{outcome="ok",code=""}')).toBe(1);
      expect(delta('synthesis_turn_duration_seconds_count')).toBe(1);
      expect(delta('synthesis_turn_duration_seconds_bucket{le="0.05"}')).toBe(0);
      expect(delta('synthesis_claude_spawns_total')).toBe(1);
      expect(delta('synthesis_sse_heartbeats_total')).toBeGreaterThanOrEqual(2);
      const live = (await gw.healthz()).liveSessions;
      expect(metric(after, 'synthesis_live_sessions')).toBe(live);
      // One plugin connection per live Claude (polled: a plugin may still be reconnecting).
      await expect.poll(async () => metric(await metrics(), 'synthesis_bridge_connections'), { timeout: 10_000 }).toBe(live);
    });

    it('shows the queue depth while a turn waits behind a busy session', async () => {
      await chat('queue', 'warm');
      const mark = gw.logs.length;
      const busy = chat('queue', '[[slow:600]] busy');
      await gw.waitForLog((l) => l.msg === 'turn delivered to Claude' && l.session === 'default::queue', 60_000, mark);
      const waiting = chat('queue', 'waiting');
      await expect.poll(async () => metric(await metrics(), 'synthesis_queue_depth'), { timeout: 5000 }).toBe(1);
      await Promise.all([busy, waiting]);
      expect(metric(await metrics(), 'synthesis_queue_depth')).toBe(0);
    });

    it('counts a crash, a restart after a lost bridge, and the failed turns by code', async () => {
      const before = await metrics();
      await chat('crash', 'warm');
      await expect(chat('crash', '[[crash]]')).rejects.toMatchObject({ status: 502 });
      await chat('lost', 'warm');
      await expect(chat('lost', '[[kill-plugin]]')).rejects.toMatchObject({ status: 502 });
      const after = await metrics();
      const delta = (sample: string) => metric(after, sample) - metric(before, sample);
      expect(delta('synthesis_claude_crashes_total')).toBe(1);
      expect(delta('synthesis_claude_restarts_total{reason="bridge_drop"}')).toBe(1);
      expect(delta('synthesis_turns_total{outcome="error",code="claude_exited"}')).toBe(1);
      expect(delta('synthesis_turns_total{outcome="error",code="bridge_disconnected"}')).toBe(1);
    });
  });

  it('tags every log line of a turn with its session key and request id', async () => {
    const mark = gw.logs.length;
    const ok = await chat('logged', 'first turn starts a Claude');
    const failed = await chat('logged', '[[crash]]').catch((err: { error?: unknown }) => err);
    expect(failed).toHaveProperty('status', 502);
    const requestId = ok.id.replace(/^chatcmpl-/, '');
    const lines = gw.logs.slice(mark);
    const ofTurn = lines.filter((l) => l.request === requestId);
    expect(ofTurn.map((l) => l.msg)).toEqual(expect.arrayContaining(['starting Claude session', 'Claude session ready', 'turn delivered to Claude']));
    expect(ofTurn.every((l) => l.session === 'default::logged')).toBe(true);
    const failure = lines.find((l) => l.msg === 'turn failed');
    expect(failure).toMatchObject({ session: 'default::logged', request: expect.any(String), code: 'claude_exited' });
    // Whatever mentions a request belongs to a session.
    expect(lines.filter((l) => l.request !== undefined && l.session === undefined)).toEqual([]);
  });
});

describe('start-up rules and log format', () => {
  /** Runs the CLI until it logs `until` (then SIGTERM) or exits; returns exit code and stderr. */
  async function runCli(args: string[], until?: RegExp): Promise<{ code: number | null; stderr: string }> {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'hardening-cli-'));
    const child = spawn(process.execPath, [CLI, '--port', '0', '--bridge-port', '0', '--state-dir', stateDir, '--claude-command', FAKE_CLAUDE, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let signalled = false;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      // Once: a second SIGTERM means "stop now" and would skip the graceful close under test.
      if (!signalled && until?.test(stderr)) signalled = child.kill('SIGTERM');
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    rmSync(stateDir, { recursive: true, force: true });
    return { code, stderr };
  }

  it('refuses to listen beyond loopback without --api-key (exit 2, says how to fix it)', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const { code, stderr } = await runCli(['--host', host]);
      expect(code).toBe(2);
      expect(stderr).toMatch(new RegExp(`refusing to listen on ${host.replace(/\./g, '\\.')}.*--api-key`));
    }
  });

  it('listens beyond loopback with --api-key, with a warning', async () => {
    const { code, stderr } = await runCli(['--host', '0.0.0.0', '--api-key', API_KEY], /gateway ready/);
    expect(code).toBe(0);
    const warning = stderr.split('\n').find((l) => l.includes('non-loopback'));
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, host: '0.0.0.0' });
  });

  it('writes human-readable lines with --log-format pretty', async () => {
    const { code, stderr } = await runCli(['--log-format', 'pretty'], /gateway ready/);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(synthesis-agent\): SynthesisAgent gateway ready on http:\/\/127\.0\.0\.1:\d+/m);
    expect(stderr).not.toMatch(/^\{"level"/m);
  });
});
