/**
 * The product with the REAL Claude Code binary: openai client → gateway CLI → claude 2.1.330 in a
 * PTY → our claude-plugin over MCP → bridge → SSE/JSON, with a fake Anthropic API playing the
 * model on loopback and a temporary HOME seeded so no first-run screen appears.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/dist/fake-anthropic/server.js';
import { seedClaudeHome, type ClaudeHome } from '../helpers/claude-home.js';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { waitForExit } from '../helpers/processes.js';
import { realClaudeBinary } from '../helpers/real-claude.js';
import { postChat, readSse, user } from '../helpers/sse.js';

const API_KEY = 'sk-ant-api03-synthesis-test-key-0123456789abcdefghij';

/** Channel messages containing "hold" are answered only once the test releases them. */
let release: () => void = () => undefined;
let held = Promise.resolve();
/** Resolved when the fake model starts answering a held message. */
let holding: () => void = () => undefined;

/** Every text the model was shown in one Messages API request. */
function requestText(body: unknown): string {
  return JSON.stringify((body as { messages?: unknown })?.messages ?? []);
}

describe('real Claude Code behind the gateway', () => {
  let fake: FakeAnthropic;
  let home: ClaudeHome;
  let workspace: string;
  let gw: TestGateway;

  beforeAll(async () => {
    fake = await startFakeAnthropic({
      answer: async (message) => {
        if (message.content.includes('hold')) {
          holding();
          await held;
        }
        return `echo: ${message.content}`;
      },
    });
    workspace = mkdtempSync(path.join(tmpdir(), 'real-claude-ws-'));
    home = seedClaudeHome({ workspaces: [workspace], apiKey: API_KEY, baseUrl: fake.url });
    gw = await startTestGateway({
      claudeCommand: realClaudeBinary(),
      // The seeded HOME is where real Claude reads its settings; no CLAUDE_CONFIG_DIR override.
      env: { ...home.env, CLAUDE_CONFIG_DIR: undefined },
      args: ['--workspace', workspace, '--heartbeat-ms', '1000', '--start-timeout-ms', '60000'],
    });
  });

  afterAll(async () => {
    const stopped = await gw?.stop();
    await stopAllGateways();
    await fake?.close();
    home?.cleanup();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
    expect(stopped?.survivors).toEqual([]);
  });

  it('answers a streaming and a non-streaming turn', async () => {
    const headers = { 'X-Openclaw-Chat-Id': 'basic' };
    const events = await readSse(await postChat(gw.httpUrl, { model: 'claude-code', stream: true, messages: user('hello real claude') }, headers));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('echo: hello real claude');
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');

    const res = await gw.openai({ headers }).chat.completions.create({ model: 'claude-code', messages: user('and without streaming') });
    expect(res.choices[0]?.message.content).toBe('echo: and without streaming');
  });

  it('answers three turns in order from ONE Claude process that carries the conversation', async () => {
    const client = gw.openai({ headers: { 'X-Openclaw-Chat-Id': 'three' } });
    const answers: string[] = [];
    const pids: (number | undefined)[] = [];
    for (const text of ['first turn alpha', 'second turn beta', 'third turn gamma']) {
      const res = await client.chat.completions.create({ model: 'claude-code', messages: user(text) });
      answers.push(res.choices[0]?.message.content ?? '');
      pids.push((await gw.healthz()).sessions.find((s) => s.key === 'default::three')?.pid);
    }
    expect(answers).toEqual(['echo: first turn alpha', 'echo: second turn beta', 'echo: third turn gamma']);
    expect(pids[0]).toBeGreaterThan(0);
    expect(new Set(pids).size).toBe(1);
    // The model saw the earlier turns when asked the third one: Claude kept the conversation.
    const third = await fake.waitForRequest((r) => r.kind === 'reply_tool_use' && requestText(r.body).includes('third turn gamma'));
    expect(requestText(third.body)).toContain('first turn alpha');
    expect(requestText(third.body)).toContain('second turn beta');
  });

  it('runs two sessions in parallel, each with its own process and answer', async () => {
    const ask = (chat: string) =>
      gw.openai({ headers: { 'X-Openclaw-Chat-Id': chat } }).chat.completions.create({ model: 'claude-code', messages: user(`question from ${chat}`) });
    const [a, b] = await Promise.all([ask('par-a'), ask('par-b')]);
    expect(a.choices[0]?.message.content).toBe('echo: question from par-a');
    expect(b.choices[0]?.message.content).toBe('echo: question from par-b');
    const sessions = (await gw.healthz()).sessions;
    const pidA = sessions.find((s) => s.key === 'default::par-a')?.pid;
    const pidB = sessions.find((s) => s.key === 'default::par-b')?.pid;
    expect(pidA).toBeGreaterThan(0);
    expect(pidB).toBeGreaterThan(0);
    expect(pidA).not.toBe(pidB);
  });

  it('reports kill -9 of Claude mid-turn as an error chunk and [DONE], then respawns and answers', async () => {
    const headers = { 'X-Openclaw-Chat-Id': 'killed' };
    await gw.openai({ headers }).chat.completions.create({ model: 'claude-code', messages: user('before the kill') });
    const pid = (await gw.healthz()).sessions.find((s) => s.key === 'default::killed')!.pid!;

    held = new Promise<void>((resolve) => (release = resolve));
    const modelBusy = new Promise<void>((resolve) => (holding = resolve));
    const mark = gw.logs.length;
    const reading = readSse(await postChat(gw.httpUrl, { model: 'claude-code', stream: true, messages: user('hold this turn') }, headers));
    await gw.waitForLog((l) => l.msg === 'turn delivered to Claude' && l.session === 'default::killed', 60_000, mark);
    // The model call is in flight (held by the fake API): the turn is mid-way.
    await modelBusy;
    process.kill(pid, 'SIGKILL');
    const events = await reading;
    release();
    expect(events.at(-1)).toBe('[DONE]');
    expect(JSON.parse(events.at(-2)!).error.code).toMatch(/claude_exited|bridge_disconnected/);
    await waitForExit([pid]);

    const next = await gw.openai({ headers }).chat.completions.create({ model: 'claude-code', messages: user('after the kill') });
    expect(next.choices[0]?.message.content).toBe('echo: after the kill');
    const newPid = (await gw.healthz()).sessions.find((s) => s.key === 'default::killed')?.pid;
    expect(newPid).toBeGreaterThan(0);
    expect(newPid).not.toBe(pid);
  });
});
