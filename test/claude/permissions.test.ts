/**
 * The permission relay with the real Claude Code: the fake Anthropic API makes the model call
 * Bash (`touch …`, not in --allowedTools) before it replies, and Claude runs in default
 * permission mode, where that call needs a permission. Claude Code 2.1.330 relays it to the
 * channel only when the remote flag `tengu_harbor_permissions` is on (docs/permissions.md), so
 * the test HOME seeds it next to `tengu_harbor`, except where the test shows what happens without.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROBE, startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic/server.js';
import { seedClaudeHome, type ClaudeHome } from '../helpers/claude-home.js';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { realClaudeBinary } from '../helpers/real-claude.js';

afterAll(stopAllGateways);

const MARKER = 'fake-anthropic-probe.txt';

let api: FakeAnthropic;
beforeAll(async () => {
  api = await startFakeAnthropic({
    permissionProbe: true,
    answer: (m, { probe }) => `${probe?.isError ? 'probe refused' : 'probe ran'}: ${m.content}`,
  });
});
afterAll(() => api.close());

interface Setup {
  gw: TestGateway;
  workspace: string;
  ask(messages: { role: 'user' | 'assistant'; content: string }[]): Promise<string>;
  cleanup(): Promise<void>;
}

/** A gateway running real Claude in default permission mode, in a fresh workspace and HOME. */
async function setUp(args: string[], relayFlag = true): Promise<Setup> {
  const workspace = mkdtempSync(path.join(tmpdir(), 'permission-ws-'));
  const home: ClaudeHome = seedClaudeHome({ workspaces: [workspace], apiKey: 'sk-ant-test-permission-relay-0123456789', baseUrl: api.url });
  if (relayFlag) {
    const config = JSON.parse(readFileSync(home.configPath, 'utf8'));
    config.cachedGrowthBookFeatures.tengu_harbor_permissions = true;
    writeFileSync(home.configPath, JSON.stringify(config));
  }
  const gw = await startTestGateway({
    claudeCommand: realClaudeBinary(),
    // parseArgs takes a value starting with "--" only in the --flag=value form.
    args: ['--workspace', workspace, '--claude-arg=--permission-mode', '--claude-arg=default', ...args],
    // Claude reads .claude.json from CLAUDE_CONFIG_DIR when that is set; the seeded one is in HOME.
    env: { ...home.env, CLAUDE_CONFIG_DIR: undefined },
  });
  return {
    gw,
    workspace,
    ask: async (messages) => {
      const res = await gw.openai().chat.completions.create({ model: 'claude-code', messages });
      return res.choices[0]?.message.content ?? '';
    },
    cleanup: async () => {
      const { survivors } = await gw.stop();
      expect(survivors).toEqual([]);
      home.cleanup();
      rmSync(workspace, { recursive: true, force: true });
    },
  };
}

const idIn = (question: string) => /`yes ([a-z]{5})`/.exec(question)?.[1];

describe('real Claude Code relays a permission request through the channel', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp(['--turn-timeout-ms', '60000']);
  });
  afterAll(() => s.cleanup());

  it('asks the chat user, and `yes <id>` lets the tool run and brings the reply', async () => {
    const question = await s.ask([{ role: 'user', content: 'make the file' }]);
    expect(question).toContain('Claude wants to use the tool **Bash**');
    expect(question).toContain(DEFAULT_PROBE.input.description);
    expect(question).toContain(DEFAULT_PROBE.input.command);
    const id = idIn(question);
    expect(id).toBeDefined();
    expect(existsSync(path.join(s.workspace, MARKER))).toBe(false);

    const answer = await s.ask([
      { role: 'user', content: 'make the file' },
      { role: 'assistant', content: question },
      { role: 'user', content: `yes ${id}` },
    ]);
    expect(answer).toBe('probe ran: make the file');
    expect(existsSync(path.join(s.workspace, MARKER))).toBe(true);
  });

  it('`no <id>` denies the tool; Claude goes on and replies', async () => {
    rmSync(path.join(s.workspace, MARKER), { force: true });
    const question = await s.ask([{ role: 'user', content: 'again' }]);
    const id = idIn(question);
    expect(id).toBeDefined();
    const answer = await s.ask([
      { role: 'user', content: 'again' },
      { role: 'assistant', content: question },
      { role: 'user', content: `no ${id}` },
    ]);
    expect(answer).toBe('probe refused: again');
    expect(existsSync(path.join(s.workspace, MARKER))).toBe(false);
  });
});

describe('real Claude Code with an allow-list', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp(['--permissions', 'allow-listed', '--permission-allow', 'Bash', '--turn-timeout-ms', '60000']);
  });
  afterAll(() => s.cleanup());

  it('lets a listed tool run without asking anyone', async () => {
    expect(await s.ask([{ role: 'user', content: 'listed' }])).toBe('probe ran: listed');
    expect(existsSync(path.join(s.workspace, MARKER))).toBe(true);
    await s.gw.waitForLog((l) => l.msg === 'permission answered by policy' && l.tool === 'Bash' && l.verdict === 'allow', 60_000);
  });
});

describe('real Claude Code without the tengu_harbor_permissions flag', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp(['--turn-timeout-ms', '15000'], false);
  });
  afterAll(() => s.cleanup());

  it('does not relay: its terminal prompt waits, and the turn fails instead of asking the user', async () => {
    const probes = api.requests.filter((r) => r.kind === 'probe_tool_use').length;
    await expect(s.ask([{ role: 'user', content: 'unrelayed' }])).rejects.toMatchObject({ status: expect.any(Number) });
    expect(api.requests.filter((r) => r.kind === 'probe_tool_use').length).toBe(probes + 1);
    expect(s.gw.logs.filter((l) => /^permission /.test(l.msg))).toEqual([]);
    expect(existsSync(path.join(s.workspace, MARKER))).toBe(false);
  });
});
