/**
 * The Stop-hook path: `POST /turn-end` on the bridge port, its refusals, and what it buys (the
 * next message waits for the end of Claude's turn; a turn that ends without a reply fails at once).
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { user } from '../helpers/sse.js';

describe('turn end reported by the Stop hook', () => {
  let gw: TestGateway;
  let turnEndUrl: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    turnEndUrl = gw.bridgeUrl.replace(/^ws:/, 'http:').replace(/\/bridge$/, '/turn-end');
    await gw.openai({ headers: { 'X-Openclaw-Chat-Id': 'te' } }).chat.completions.create({ model: 'm', messages: user('warm') });
  });
  afterAll(async () => {
    expect((await gw.stop()).survivors).toEqual([]);
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(turnEndUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it.each([
    ['not JSON', '{', {}, 400, 'invalid_json'],
    ['the wrong shape', JSON.stringify({ type: 'turn_end' }), {}, 400, 'invalid_message'],
    ['an unknown session', JSON.stringify({ type: 'turn_end', openclaw_session: 'nobody::x', token: 't' }), {}, 404, 'unknown_session'],
    ['a forged token', JSON.stringify({ type: 'turn_end', openclaw_session: 'default::te', token: 'forged' }), {}, 403, 'unauthorized'],
    ['a browser Origin', JSON.stringify({ type: 'turn_end', openclaw_session: 'default::te' }), { origin: 'http://evil.example' }, 403, 'unauthorized'],
  ])('refuses %s with a typed error', async (_name, body, headers, status, code) => {
    const res = await post(body, headers);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ type: 'error', code });
  });

  it('answers other methods and paths with 405/404', async () => {
    expect((await fetch(turnEndUrl)).status).toBe(405);
    expect((await fetch(turnEndUrl.replace('/turn-end', '/elsewhere'), { method: 'POST' })).status).toBe(404);
  });

  it("keeps the bridge token out of Claude's environment", async () => {
    const pid = (await gw.healthz()).sessions.find((s) => s.key === 'default::te')?.pid;
    expect(pid).toBeGreaterThan(0);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain('SYNTHESIS_OPENCLAW_SESSION=default::te');
    expect(environ.some((v) => v.startsWith('SYNTHESIS_WS_URL='))).toBe(true);
    expect(environ.some((v) => v.startsWith('SYNTHESIS_BRIDGE_TOKEN='))).toBe(false);
  });

  it('fails a turn that Claude ends without a reply at once, with 502 no_reply', async () => {
    const started = Date.now();
    const err = (await gw
      .openai({ headers: { 'X-Openclaw-Chat-Id': 'te' } })
      .chat.completions.create({ model: 'm', messages: user('[[noreply]]') })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    expect((err.error as { code: string }).code).toBe('no_reply');
    // Far below the 15-minute --turn-timeout-ms default: the Stop hook said the turn was over.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('delivers back-to-back turns only after each turn ended (no side notes)', async () => {
    const client = gw.openai({ headers: { 'X-Openclaw-Chat-Id': 'b2b' } });
    for (const n of [1, 2, 3, 4, 5]) {
      const res = await client.chat.completions.create({ model: 'm', messages: user(`quick ${n}`) });
      expect(res.choices[0]?.message.content).toBe(`echo: quick ${n}`);
    }
    // The fake Claude (like the real one) never answers a side note: the history holds all five as turns.
    const history = await client.chat.completions.create({ model: 'm', messages: user('[[history]]') });
    expect(history.choices[0]?.message.content).toBe(['history:', ...[1, 2, 3, 4, 5].map((n) => `quick ${n}`)].join('\n'));
  });
});
