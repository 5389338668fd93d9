/**
 * Start-up and mid-turn screens that need a person, through the real gateway with the fake Claude
 * (which draws the screens as Claude Code 2.1.330 does, including the trust dialog's re-mount that
 * drops keys typed too early).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitForExit } from '../helpers/processes.js';
import { user } from '../helpers/sse.js';

type ApiError = InstanceType<typeof OpenAI.APIError>;

describe('screens that need a person', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    const stopped = await gw?.stop();
    gw = undefined;
    expect(stopped?.survivors ?? []).toEqual([]);
  });

  it('answers the trust dialog for a workspace given with --trust-workspace, after its re-mount', async () => {
    const workspace = mkdtempSync(path.join(tmpdir(), 'trusted-'));
    gw = await startTestGateway({ env: { FAKE_CLAUDE_SCREEN: 'trust' }, args: ['--workspace', workspace, '--trust-workspace', workspace] });
    const res = await gw.openai().chat.completions.create({ model: 'm', messages: user('trusted?') });
    expect(res.choices[0]?.message.content).toBe('echo: trusted?');
    expect(gw.logs.some((l) => l.msg === 'answering Claude Code screen' && l.screen === 'trust')).toBe(true);
  });

  it('refuses, quoting the trust dialog and the fix, for a workspace not given with --trust-workspace', async () => {
    const workspace = mkdtempSync(path.join(tmpdir(), 'untrusted-'));
    const other = mkdtempSync(path.join(tmpdir(), 'other-'));
    gw = await startTestGateway({ env: { FAKE_CLAUDE_SCREEN: 'trust' }, args: ['--workspace', workspace, '--trust-workspace', other] });
    const err = (await gw.openai().chat.completions.create({ model: 'm', messages: user('hi') }).catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(503);
    const message = (err.error as { message: string }).message;
    expect(message).toMatch(/trust screen/);
    expect(message).toMatch(/--trust-workspace/);
    expect(message).toContain('Yes, I trust this folder');
  });

  it('fails a turn at once when Claude shows "Not logged in", and restarts it', async () => {
    gw = await startTestGateway({ args: ['--turn-timeout-ms', '60000'] });
    const client = gw.openai();
    const first = await client.chat.completions.create({ model: 'm', messages: user('[[pid]]') });
    const pid = Number(first.choices[0]?.message.content?.split(' ')[1]);
    const started = Date.now();
    const err = (await client.chat.completions.create({ model: 'm', messages: user('[[screen:login]]') }).catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(503);
    expect((err.error as { code: string }).code).toBe('claude_blocked');
    expect((err.error as { message: string }).message).toMatch(/log in with \/login|ANTHROPIC_API_KEY/);
    expect(Date.now() - started).toBeLessThan(30_000);
    await waitForExit([pid]);
    const next = await client.chat.completions.create({ model: 'm', messages: user('again') });
    expect(next.choices[0]?.message.content).toBe('echo: again');
  });

  it('fails a turn parked on a terminal permission prompt, naming how to allow the tool', async () => {
    gw = await startTestGateway({ args: ['--turn-timeout-ms', '60000'] });
    const events: string[] = [];
    const stream = await gw.openai().chat.completions.create({ model: 'm', stream: true, messages: user('[[screen:permission]]') });
    const err = await (async () => {
      try {
        for await (const chunk of stream) events.push(JSON.stringify(chunk));
      } catch (e) {
        return e as ApiError;
      }
      return undefined;
    })();
    expect(err).toBeDefined();
    expect(String(err?.message)).toMatch(/permission prompt screen/);
    expect(String(err?.message)).toMatch(/--allowedTools/);
  });
});
