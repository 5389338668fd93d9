/**
 * Real OpenClaw, no plugin: `openclaw agent --local` twice on one OpenClaw session against the
 * real gateway CLI (fake Claude behind it), configured as docs/openclaw-setup.md's standalone
 * setup (static agent header + compat.sendSessionAffinityHeaders). Both turns must be answered
 * by the same Claude process under one stable session key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { OPENCLAW_VERSION } from './install-openclaw.mjs';
import { createOpenClawHome, killAllOpenClaw, parseAgentJson, prepareOpenClaw, runOpenClaw, type OpenClawHome } from './openclaw.js';

const { install, skip } = await prepareOpenClaw();
if (skip) console.warn(`openclaw suite skipped: ${skip}`);

describe.skipIf(!install)(`openclaw ${OPENCLAW_VERSION} agent --local → gateway${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let gw: TestGateway;
  let home: OpenClawHome;

  beforeAll(async () => {
    gw = await startTestGateway();
    home = createOpenClawHome({
      baseUrl: `${gw.httpUrl}/v1`,
      apiKey: 'local',
      api: 'openai-completions',
      headers: { 'X-Openclaw-Agent-Id': 'main' },
      models: [
        {
          id: 'claude-code',
          name: 'Claude Code',
          contextWindow: 200_000,
          maxTokens: 32_000,
          compat: { sendSessionAffinityHeaders: true },
        },
      ],
    });
  });

  afterAll(async () => {
    killAllOpenClaw();
    if (gw) expect((await gw.stop()).survivors).toEqual([]);
    await stopAllGateways();
    home?.dispose();
  });

  const turn = async (message: string) =>
    parseAgentJson(await runOpenClaw(install!, home.home, ['agent', '--local', '--agent', 'main', '--message', message, '--json']));

  it('answers two turns of one OpenClaw session from the same Claude process', async () => {
    const first = await turn('first question');
    expect(first.text).toContain('echo:');
    expect(first.text).toContain('first question');
    const afterFirst = await gw.healthz();
    expect(afterFirst.sessions).toHaveLength(1);
    const session = afterFirst.sessions[0]!;
    // Agent from the static header; chat from OpenClaw's affinity headers (`<sessionId>:<n>`), not
    // from the Runtime-line fallback, which would give the bare session id.
    expect(session.key).toMatch(new RegExp(`^main::${first.sessionId}:\\d+$`));
    expect(session.pid).toBeGreaterThan(0);

    const second = await turn('second question');
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.text).toContain('second question');
    const afterSecond = await gw.healthz();
    expect(afterSecond.sessions).toHaveLength(1);
    expect(afterSecond.sessions[0]).toMatchObject({ key: session.key, pid: session.pid, turns: 2 });
  });
});
