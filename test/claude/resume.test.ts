/**
 * Continuity with the real Claude Code: a conversation survives a gateway restart because the
 * gateway persists the Claude session id and respawns with `--resume`. The fake Anthropic API
 * records what Claude Code sends, so the test sees the model being given the earlier turn.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChannelTags, startFakeAnthropic, type FakeAnthropic, type RecordedRequest } from '../fixtures/fake-anthropic/server.js';
import { seedClaudeHome, type ClaudeHome } from '../helpers/claude-home.js';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { realClaudeBinary } from '../helpers/real-claude.js';

afterAll(stopAllGateways);

const CHAT = 'resume-real';

describe('real Claude Code across a gateway restart', () => {
  let api: FakeAnthropic;
  let home: ClaudeHome;
  let workspace: string;
  let stateDir: string;

  beforeAll(async () => {
    api = await startFakeAnthropic();
    workspace = mkdtempSync(path.join(tmpdir(), 'resume-ws-'));
    stateDir = mkdtempSync(path.join(tmpdir(), 'resume-state-'));
    home = seedClaudeHome({ workspaces: [workspace], apiKey: 'sk-ant-test-resume-across-restart-0123456789', baseUrl: api.url });
  });
  afterAll(async () => {
    await api.close();
    home.cleanup();
    rmSync(workspace, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  const start = () =>
    startTestGateway({
      claudeCommand: realClaudeBinary(),
      stateDir,
      args: ['--workspace', workspace, '--turn-timeout-ms', '60000'],
      // Claude reads .claude.json from CLAUDE_CONFIG_DIR when set; the seeded one is in HOME.
      env: { ...home.env, CLAUDE_CONFIG_DIR: undefined },
    });

  async function ask(gw: TestGateway, content: string): Promise<string> {
    const res = await gw.openai({ headers: { 'X-Openclaw-Chat-Id': CHAT } }).chat.completions.create({
      model: 'claude-code',
      messages: [{ role: 'user', content }],
    });
    return res.choices[0]?.message.content ?? '';
  }

  /** The model request in which Claude Code asked for the answer to `content`. */
  const answering = (content: string) => (r: RecordedRequest) =>
    r.kind === 'reply_tool_use' && JSON.stringify(r.body.messages).includes(content);

  /** Contents of the channel messages in the user turns of a model request, oldest first. */
  function channelMessages(request: RecordedRequest): string[] {
    const blocks = (content: unknown): { type: string; text?: string }[] =>
      typeof content === 'string' ? [{ type: 'text', text: content }] : (content as { type: string; text?: string }[]);
    return (request.body.messages as { role: string; content: unknown }[])
      .filter((m) => m.role === 'user')
      .flatMap((m) => blocks(m.content))
      .flatMap((b) => (b.type === 'text' ? parseChannelTags(b.text ?? '').map((c) => c.content) : []));
  }

  it('gives the model the earlier turn after the gateway restarts', async () => {
    const gw1 = await start();
    expect(await ask(gw1, 'remember the word BANANA')).toBe('echo: remember the word BANANA');
    const claudeSession = (await gw1.healthz()).sessions.find((s) => s.key === `default::${CHAT}`)?.claudeSessionId;
    expect((await gw1.stop()).survivors).toEqual([]);

    const gw2 = await start();
    expect(await ask(gw2, 'which word?')).toBe('echo: which word?');
    expect(await gw2.waitForLog((l) => l.msg === 'starting Claude session')).toMatchObject({ resume: true, claudeSession });
    expect((await gw2.stop()).survivors).toEqual([]);

    const turn2 = await api.waitForRequest(answering('which word?'), 1000);
    expect(channelMessages(turn2)).toEqual(['remember the word BANANA', 'which word?']);

    // Claude kept writing under the same id, so a third start would resume both turns.
    const projects = path.join(home.home, '.claude', 'projects');
    const files = readdirSync(projects, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jsonl'));
    expect(files.map((f) => path.basename(f))).toEqual([`${claudeSession}.jsonl`]);
    expect(readFileSync(path.join(projects, files[0]!), 'utf8')).toContain('which word?');
  });

  it('starts fresh when Claude has no conversation under the saved id', async () => {
    const lost = randomUUID();
    const sessions = { [`default::${CHAT}-lost`]: { claudeSessionId: lost, workspace, lastUsed: new Date().toISOString(), hasTranscript: true } };
    writeFileSync(path.join(stateDir, 'sessions.json'), JSON.stringify({ version: 1, sessions }));
    const gw = await start();
    const res = await gw.openai({ headers: { 'X-Openclaw-Chat-Id': `${CHAT}-lost` } }).chat.completions.create({
      model: 'claude-code',
      messages: [{ role: 'user', content: 'anyone there?' }],
    });
    expect(res.choices[0]?.message.content).toBe('echo: anyone there?');
    const failed = await gw.waitForLog((l) => l.msg === 'resume failed (no conversation found); starting a fresh Claude session');
    expect(failed.claudeSession).toBe(lost);
    expect((await gw.stop()).survivors).toEqual([]);
  });
});
