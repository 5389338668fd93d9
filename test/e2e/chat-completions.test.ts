/**
 * The core bridge end to end: openai client → real gateway CLI → fake Claude in a PTY → our
 * claude-plugin over MCP stdio → bridge WebSocket → SSE / JSON back to the client.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { isAlive, waitForExit } from '../helpers/processes.js';
import { readSse, postChat, user } from '../helpers/sse.js';

afterAll(stopAllGateways);

describe('chat completions through the whole bridge', () => {
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--heartbeat-ms', '50', '--queue-depth', '2'] });
    client = gw.openai();
  });
  afterAll(async () => {
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  it('answers a non-streaming request with one chat.completion', async () => {
    const res = await client.chat.completions.create({ model: 'claude-code', messages: user('hello there') });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('claude-code');
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.choices[0]?.message.content).toBe('echo: hello there');
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ estimated: true });
    expect(res.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('streams a role delta, the whole reply in one delta, a stop chunk and [DONE]', async () => {
    const events = await readSse(await postChat(gw.httpUrl, { model: 'm1', stream: true, messages: user('stream me') }));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const content = chunks.map((c) => c.choices[0]?.delta?.content).filter((t) => t);
    expect(content).toEqual(['echo: stream me']);
    const last = chunks.at(-1);
    expect(last.choices[0].finish_reason).toBe('stop');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.model === 'm1' && c.object === 'chat.completion.chunk')).toBe(true);
  });

  it('works with the openai client streaming API', async () => {
    const stream = await client.chat.completions.create({ model: 'claude-code', stream: true, messages: user('via sdk') });
    let text = '';
    let finish: string | null | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('echo: via sdk');
    expect(finish).toBe('stop');
  });

  it('joins progress chunks in order with the final reply', async () => {
    const res = await client.chat.completions.create({ model: 'claude-code', messages: user('[[chunks:3]]') });
    expect(res.choices[0]?.message.content).toBe('chunk 1 \n\nchunk 2 \n\nchunk 3 \n\ndone');
  });

  it('sends empty-content data deltas as heartbeat while a turn runs', async () => {
    const events = await readSse(await postChat(gw.httpUrl, { model: 'm', stream: true, messages: user('[[slow:600]] beat') }));
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const heartbeats = chunks.slice(1).filter((c) => c.choices[0]?.delta?.content === '' && c.choices[0].finish_reason === null);
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    expect(chunks.map((c) => c.choices[0]?.delta?.content).join('')).toBe('echo: [[slow:600]] beat');
  });

  it('delivers only the user messages after the last assistant message, joined in order', async () => {
    // Warm the session first: a fresh one would get the earlier turns replayed (history bootstrap).
    await client.chat.completions.create({ model: 'claude-code', messages: user('warm'), user: 'joined-session' });
    const res = await client.chat.completions.create({
      model: 'claude-code',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'old question' },
        { role: 'assistant', content: 'old answer' },
        { role: 'user', content: [{ type: 'text', text: 'new ' }, { type: 'text', text: 'question' }] },
        { role: 'user', content: 'context block' },
      ],
      user: 'joined-session',
    });
    expect(res.choices[0]?.message.content).toBe('echo: new question\n\ncontext block');
  });

  it('keeps sessions apart by header, each with its own Claude process', async () => {
    const ask = (chat: string, text: string) =>
      gw.openai({ headers: { 'X-Openclaw-Agent-Id': 'agent', 'X-Openclaw-Chat-Id': chat } }).chat.completions.create({
        model: 'claude-code',
        messages: user(text),
      });
    const [a, b] = await Promise.all([ask('chat-a', '[[pid]]'), ask('chat-b', '[[pid]]')]);
    const pidA = a.choices[0]?.message.content;
    const pidB = b.choices[0]?.message.content;
    expect(pidA).toMatch(/^pid \d+$/);
    expect(pidB).toMatch(/^pid \d+$/);
    expect(pidA).not.toBe(pidB);
    const health = await gw.healthz();
    const keys = health.sessions.map((s) => s.key);
    expect(keys).toEqual(expect.arrayContaining(['agent::chat-a', 'agent::chat-b']));
    expect(String(health.sessions.find((s) => s.key === 'agent::chat-a')?.pid)).toBe(pidA!.split(' ')[1]);
  });

  it('queues a second turn on a busy session and answers both in order', async () => {
    const headers = { 'X-Openclaw-Chat-Id': 'queued' };
    const c = gw.openai({ headers });
    await c.chat.completions.create({ model: 'm', messages: user('warm up') });
    const mark = gw.logs.length;
    const order: string[] = [];
    const first = c.chat.completions.create({ model: 'm', messages: user('[[slow:400]] first') }).then((r) => {
      order.push('first');
      return r;
    });
    await gw.waitForLog((l) => l.msg === 'turn delivered to Claude' && l.session === 'default::queued', 60_000, mark);
    const second = c.chat.completions.create({ model: 'm', messages: user('second') }).then((r) => {
      order.push('second');
      return r;
    });
    const [r1, r2] = await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(r1.choices[0]?.message.content).toBe('echo: [[slow:400]] first');
    // Had "second" been injected mid-turn, the fake Claude (like the real one) would never answer it.
    expect(r2.choices[0]?.message.content).toBe('echo: second');
  });

  it('answers 429 when the queue of a busy session is full', async () => {
    const c = gw.openai({ headers: { 'X-Openclaw-Chat-Id': 'full' } });
    const busy = c.chat.completions.create({ model: 'm', messages: user('[[slow:800]] busy') });
    await gw.waitForLog((l) => l.msg === 'turn delivered to Claude' && l.session === 'default::full');
    const waiting = [1, 2].map((i) => c.chat.completions.create({ model: 'm', messages: user(`wait ${i}`) }));
    const overflow = await c.chat.completions.create({ model: 'm', messages: user('one too many') }).catch((e: unknown) => e);
    expect(overflow).toBeInstanceOf(OpenAI.APIError);
    expect((overflow as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((overflow as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBeTruthy();
    expect(((overflow as InstanceType<typeof OpenAI.APIError>).error as { code: string }).code).toBe('queue_full');
    // Streaming requests get the same 429 before any event is sent.
    const streamed = await postChat(gw.httpUrl, { model: 'm', stream: true, messages: user('stream too many') }, { 'X-Openclaw-Chat-Id': 'full' });
    expect(streamed.status).toBe(429);
    expect(streamed.headers.get('retry-after')).toBeTruthy();
    await Promise.all([busy, ...waiting]);
  });

  it('fails a turn whose Claude crashes with an error chunk and [DONE], then starts a new Claude', async () => {
    const headers = { 'x-session-affinity': 'crashy' };
    const before = await gw.openai({ headers }).chat.completions.create({ model: 'm', messages: user('[[pid]]') });
    const oldPid = Number(before.choices[0]?.message.content?.split(' ')[1]);
    const events = await readSse(await postChat(gw.httpUrl, { model: 'm', stream: true, messages: user('[[crash]]') }, headers));
    expect(events.at(-1)).toBe('[DONE]');
    const error = JSON.parse(events.at(-2)!);
    expect(error.error.code).toBe('claude_exited');
    expect(error.error.message).toMatch(/exited/);
    await waitForExit([oldPid]);
    const after = await gw.openai({ headers }).chat.completions.create({ model: 'm', messages: user('[[pid]]') });
    expect(after.choices[0]?.message.content).toMatch(/^pid \d+$/);
    expect(after.choices[0]?.message.content).not.toBe(before.choices[0]?.message.content);
  });

  it('streams a turn refused at once (missing workspace) as role delta, error chunk, [DONE], and keeps serving', async () => {
    const headers = { 'X-Openclaw-Workspace': '/nonexistent/synthesis-workspace', 'X-Openclaw-Chat-Id': 'nowhere' };
    const events = await readSse(await postChat(gw.httpUrl, { model: 'm', stream: true, messages: user('anyone?') }, headers));
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[0]!).choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(JSON.parse(events[1]!).error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('not an existing directory') });
    expect(events[2]).toBe('[DONE]');
    const next = await gw.openai().chat.completions.create({ model: 'm', messages: user('still up?') });
    expect(next.choices[0]?.message.content).toBe('echo: still up?');
  });

  it('fails a turn whose bridge connection drops, then serves the next turn', async () => {
    const headers = { session_id: 'droppy' };
    await gw.openai({ headers }).chat.completions.create({ model: 'm', messages: user('warm') });
    const events = await readSse(await postChat(gw.httpUrl, { model: 'm', stream: true, messages: user('[[kill-plugin]]') }, headers));
    expect(events.at(-1)).toBe('[DONE]');
    expect(JSON.parse(events.at(-2)!).error.code).toBe('bridge_disconnected');
    const next = await gw.openai({ headers }).chat.completions.create({ model: 'm', messages: user('still there?') });
    expect(next.choices[0]?.message.content).toBe('echo: still there?');
  });

  it('lists the served model and reports sessions on /healthz', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('claude-code');
    const health = await gw.healthz();
    expect(health.limits.queueDepth).toBe(2);
    expect(health.sessions.length).toBeGreaterThan(0);
    expect(health.sessions.every((s) => typeof s.claudeSessionId === 'string')).toBe(true);
  });
});

describe('bad requests get OpenAI error JSON', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--max-body-bytes', '4096'] });
  });
  afterAll(async () => {
    await gw.stop();
  });

  const post = (body: string, contentType = 'application/json') =>
    fetch(`${gw.httpUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': contentType }, body });

  it.each([
    ['invalid JSON', '{"model": ', 400, 'invalid_json'],
    ['no messages', JSON.stringify({ model: 'm', messages: [] }), 400, 'invalid_request'],
    ['no user message', JSON.stringify({ model: 'm', messages: [{ role: 'system', content: 'x' }] }), 400, 'invalid_request'],
    ['wrong content type', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 42 }] }), 400, 'invalid_request'],
    ['image parts', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }), 400, 'invalid_request'],
    ['missing model', JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }), 400, 'invalid_request'],
    ['forced tool choice', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'function', function: { name: 'f' } } }), 400, 'tool_choice_unsupported'],
  ])('%s → %i', async (_name, body, status, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.type).toBe('invalid_request_error');
    expect(json.error.message.length).toBeGreaterThan(5);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await post('hello', 'text/plain');
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
  });

  it('refuses an oversize body with 413', async () => {
    const res = await post(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(10_000) }] }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await fetch(`${gw.httpUrl}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
  });

  it('rejects a relative or missing workspace with 400', async () => {
    const client = gw.openai({ headers: { 'X-Openclaw-Workspace': 'relative/dir' } });
    const err = await client.chat.completions.create({ model: 'm', messages: user('x') }).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    const missing = gw.openai({ headers: { 'X-Openclaw-Workspace': '/definitely/not/here', 'X-Openclaw-Chat-Id': 'nows' } });
    const err2 = await missing.chat.completions.create({ model: 'm', messages: user('x') }).catch((e: unknown) => e);
    expect((err2 as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
  });
});

describe('Claude that cannot start or answer', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it('fails fast with 503 quoting the screen when Claude waits on a login screen', async () => {
    gw = await startTestGateway({ env: { FAKE_CLAUDE_SCREEN: 'login' }, args: ['--start-timeout-ms', '30000'] });
    const started = Date.now();
    const err = await gw.openai().chat.completions.create({ model: 'm', messages: user('hi') }).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    const message = ((err as InstanceType<typeof OpenAI.APIError>).error as { message: string }).message;
    expect(message).toMatch(/login/i);
    expect(message).toMatch(/Select login method/);
    expect(Date.now() - started).toBeLessThan(25_000);
    const health = await gw.healthz();
    expect(health.liveSessions).toBe(0);
  });

  it('logs a progress line while a slow Claude starts, then answers', async () => {
    gw = await startTestGateway({ env: { FAKE_CLAUDE_START_DELAY_MS: '3500' } });
    const answer = gw.openai().chat.completions.create({ model: 'm', messages: user('slow start') });
    const progress = await gw.waitForLog((l) => l.msg === 'Claude session still starting');
    expect(progress.elapsedMs).toBeGreaterThan(0);
    expect((await answer).choices[0]?.message.content).toBe('echo: slow start');
  });

  it('fails with 503 when Claude exits at start', async () => {
    gw = await startTestGateway({ env: { FAKE_CLAUDE_EXIT_AT_START: '3' } });
    const err = await gw.openai().chat.completions.create({ model: 'm', messages: user('hi') }).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect(((err as InstanceType<typeof OpenAI.APIError>).error as { message: string }).message).toMatch(/code 3/);
  });

  it('times out a turn with 504 and restarts the wedged Claude', async () => {
    gw = await startTestGateway({ args: ['--turn-timeout-ms', '500'] });
    const c = gw.openai();
    const first = await c.chat.completions.create({ model: 'm', messages: user('[[pid]]') });
    const pid = Number(first.choices[0]?.message.content?.split(' ')[1]);
    const err = await c.chat.completions.create({ model: 'm', messages: user('[[never]]') }).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    await waitForExit([pid]);
    const next = await c.chat.completions.create({ model: 'm', messages: user('back?') });
    expect(next.choices[0]?.message.content).toBe('echo: back?');
  });

  it('on SIGTERM fails the in-flight turn with an error chunk and leaves no child', async () => {
    gw = await startTestGateway();
    const response = await postChat(gw.httpUrl, { model: 'm', stream: true, messages: user('[[never]]') });
    await gw.waitForLog((l) => l.msg === 'turn delivered to Claude');
    const claudePid = (await gw.healthz()).sessions[0]?.pid;
    expect(claudePid && isAlive(claudePid)).toBe(true);
    const reading = readSse(response);
    const { code, survivors } = await gw.stop('SIGTERM');
    gw = undefined;
    const events = await reading;
    expect(events.at(-1)).toBe('[DONE]');
    expect(JSON.parse(events.at(-2)!).error.code).toBe('shutting_down');
    expect(code).toBe(0);
    expect(survivors).toEqual([]);
    expect(isAlive(claudePid!)).toBe(false);
  });
});
