/**
 * The launcher against the REAL Claude Code start-up screens: the workspace-trust dialog (answered
 * only for --trust-workspace), the API-key approval and missing credentials (turned into 503s that
 * quote the screen and say how to fix it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/dist/fake-anthropic/server.js';
import { seedClaudeHome, type ClaudeHome, type SeedClaudeHomeOptions } from '../helpers/claude-home.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { realClaudeBinary } from '../helpers/real-claude.js';
import { user } from '../helpers/sse.js';

const API_KEY = 'sk-ant-api03-synthesis-screens-key-0123456789abcdefghij';
type ApiError = InstanceType<typeof OpenAI.APIError>;

describe('real Claude Code start-up screens', () => {
  let fake: FakeAnthropic;
  let home: ClaudeHome | undefined;
  let gw: TestGateway | undefined;
  let workspace: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(async () => {
    const stopped = await gw?.stop();
    gw = undefined;
    home?.cleanup();
    home = undefined;
    rmSync(workspace, { recursive: true, force: true });
    expect(stopped?.survivors ?? []).toEqual([]);
  });

  /** `args` gets the fresh workspace, so a test can name it (e.g. in --trust-workspace). */
  async function start(seed: Partial<SeedClaudeHomeOptions>, args: (workspace: string) => string[] = () => [], env: NodeJS.ProcessEnv = {}) {
    workspace = mkdtempSync(path.join(tmpdir(), 'screens-ws-'));
    home = seedClaudeHome({ workspaces: [workspace], apiKey: API_KEY, baseUrl: fake.url, ...seed });
    gw = await startTestGateway({
      claudeCommand: realClaudeBinary(),
      env: { ...home.env, CLAUDE_CONFIG_DIR: undefined, ...env },
      args: ['--workspace', workspace, '--start-timeout-ms', '60000', '--turn-timeout-ms', '120000', ...args(workspace)],
    });
    return gw;
  }

  it('answers the trust dialog of a workspace given with --trust-workspace', async () => {
    gw = await start({ trust: false }, (ws) => ['--trust-workspace', ws]);
    const res = await gw.openai().chat.completions.create({ model: 'claude-code', messages: user('in a fresh folder') });
    expect(res.choices[0]?.message.content).toBe('echo: in a fresh folder');
    expect(gw.logs.some((l) => l.msg === 'answering Claude Code screen' && l.screen === 'trust')).toBe(true);
  });

  it('refuses an untrusted workspace with a 503 that quotes the dialog and names --trust-workspace', async () => {
    await start({ trust: false });
    const err = (await gw!.openai().chat.completions.create({ model: 'claude-code', messages: user('hi') }).catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(503);
    const message = (err.error as { message: string }).message;
    expect(message).toMatch(/trust/);
    expect(message).toMatch(/--trust-workspace/);
    expect(message).toMatch(/Yes, I trust this folder|Accessing workspace/);
  });

  it('refuses an API key Claude Code was never told to use, saying how to approve it', async () => {
    await start({ approveKey: false });
    const err = (await gw!.openai().chat.completions.create({ model: 'claude-code', messages: user('hi') }).catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(503);
    const message = (err.error as { message: string }).message;
    expect(message).toMatch(/api key/i);
    expect(message).toMatch(/Do you want to use this API key\?/);
  });

  it('fails the first turn at once when Claude Code has no credentials ("Not logged in")', async () => {
    await start({}, () => [], { ANTHROPIC_API_KEY: undefined });
    const started = Date.now();
    const err = (await gw!.openai().chat.completions.create({ model: 'claude-code', messages: user('anyone?') }).catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(503);
    expect((err.error as { code: string }).code).toBe('claude_blocked');
    expect((err.error as { message: string }).message).toMatch(/\/login/);
    // Far below --turn-timeout-ms: the screen was recognised, not waited out.
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
