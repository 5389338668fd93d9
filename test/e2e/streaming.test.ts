/**
 * How an answer is streamed (--reply-mode buffered|live), the estimated usage, and client tools:
 * raw SSE against the real gateway CLI with the fake Claude.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { postChat, readSse, user } from '../helpers/sse.js';

afterAll(stopAllGateways);

interface Chunk {
  /** Absent on the error chunk that ends a failed turn. */
  choices?: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; estimated?: boolean };
  error?: { code: string };
}

async function stream(gw: TestGateway, body: Record<string, unknown>): Promise<Chunk[]> {
  const events = await readSse(await postChat(gw.httpUrl, { model: 'm', stream: true, ...body }));
  expect(events.at(-1)).toBe('[DONE]');
  return events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
}

/** Content deltas with text, in order (role delta and empty heartbeats left out). */
const texts = (chunks: Chunk[]) => chunks.map((c) => c.choices?.[0]?.delta.content).filter((t): t is string => !!t);
const isHeartbeat = (c: Chunk) => {
  const choice = c.choices?.[0];
  return choice?.delta.content === '' && choice.delta.role === undefined && choice.finish_reason === null;
};

async function stopCleanly(gw: TestGateway): Promise<void> {
  const { survivors } = await gw.stop();
  expect(survivors).toEqual([]);
}

describe('--reply-mode', () => {
  let buffered: TestGateway;
  let live: TestGateway;

  beforeAll(async () => {
    [buffered, live] = await Promise.all([
      startTestGateway({ args: ['--heartbeat-ms', '50'] }),
      startTestGateway({ args: ['--heartbeat-ms', '50', '--reply-mode', 'live'] }),
    ]);
  });
  afterAll(() => Promise.all([stopCleanly(buffered), stopCleanly(live)]));

  it('buffered (default) sends progress chunks and the final reply as one delta', async () => {
    const chunks = await stream(buffered, { messages: user('[[chunks:3]]') });
    expect(texts(chunks)).toEqual(['chunk 1 \n\nchunk 2 \n\nchunk 3 \n\ndone']);
  });

  it('live sends each progress chunk as its own delta, then the final reply; the text is the same', async () => {
    const chunks = await stream(live, { messages: user('[[chunks:3]]') });
    expect(texts(chunks)).toEqual(['chunk 1 ', '\n\nchunk 2 ', '\n\nchunk 3 ', '\n\ndone']);
    expect(texts(chunks).join('')).toBe('chunk 1 \n\nchunk 2 \n\nchunk 3 \n\ndone');
    expect(chunks.at(-1)?.choices?.[0]?.finish_reason).toBe('stop');
  });

  it('live delivers a progress chunk as it arrives: it reaches the client although the turn then fails', async () => {
    const chunks = await stream(live, { user: 'live-crash', messages: user('[[crash]]') });
    expect(texts(chunks)).toEqual(['chunk 1 ']);
    expect(chunks.at(-1)?.error?.code).toBe('claude_exited');

    const lost = await stream(buffered, { user: 'buffered-crash', messages: user('[[crash]]') });
    expect(texts(lost)).toEqual([]);
    expect(lost.at(-1)?.error?.code).toBe('claude_exited');
  });

  it('live keeps the heartbeat going while the turn runs, and the deltas stay in order', async () => {
    const chunks = await stream(live, { messages: user('[[slow:500]][[chunks:2]]') });
    const firstText = chunks.findIndex((c) => !!c.choices?.[0]?.delta.content);
    expect(chunks.slice(1, firstText).filter(isHeartbeat).length).toBeGreaterThanOrEqual(2);
    expect(texts(chunks)).toEqual(['chunk 1 ', '\n\nchunk 2 ', '\n\ndone']);
  });

  it('live streams a relayed permission question, then the answer to `yes <id>`', async () => {
    const chunks = await stream(live, { user: 'live-permission', messages: user('[[permission:Bash]]') });
    const question = texts(chunks).join('');
    expect(question).toContain('**Bash**');
    const id = /`yes ([a-z]{5})`/.exec(question)![1]!;
    const answer = await stream(live, {
      user: 'live-permission',
      messages: [...user('[[permission:Bash]]'), { role: 'assistant', content: question }, ...user(`yes ${id}`)],
    });
    expect(texts(answer)).toEqual(['permission allow for Bash']);
  });
});

describe('usage and client tools', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => stopCleanly(gw));

  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'count my tokens' },
  ];
  // ceil(chars / 4) of every message's text joined by newlines, and of the answer.
  const expected = {
    prompt_tokens: Math.ceil('Be brief.\ncount my tokens'.length / 4),
    completion_tokens: Math.ceil('echo: count my tokens'.length / 4),
  };

  it('sends an estimated usage chunk (choices: []) after the stop chunk and before [DONE] when asked', async () => {
    const chunks = await stream(gw, { messages, stream_options: { include_usage: true } });
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ ...expected, total_tokens: expected.prompt_tokens + expected.completion_tokens, estimated: true });
    expect(chunks.at(-2)?.choices?.[0]?.finish_reason).toBe('stop');
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
  });

  it('sends no usage chunk unless asked', async () => {
    const chunks = await stream(gw, { messages });
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.at(-1)?.choices?.[0]?.finish_reason).toBe('stop');
  });

  it('puts estimated usage in a non-streaming answer', async () => {
    const res = await gw.openai().chat.completions.create({ model: 'm', messages: messages as never });
    expect(res.usage).toEqual({ ...expected, total_tokens: expected.prompt_tokens + expected.completion_tokens, estimated: true });
  });

  it('ignores client tools (Claude Code uses its own) and says so at debug level', async () => {
    const mark = gw.logs.length;
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const res = await postChat(gw.httpUrl, { model: 'm', messages: user('weather?'), tools, tool_choice: 'auto' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string; tool_calls?: unknown } }[] };
    expect(body.choices[0]!.message).toEqual({ role: 'assistant', content: 'echo: weather?' });
    const line = await gw.waitForLog((l) => l.msg === 'client tools ignored: Claude Code uses its own tools', 60_000, mark);
    expect(line).toMatchObject({ level: 20, tools: 1 });
  });

  it.each([
    ['a named function', { type: 'function', function: { name: 'get_weather' } }],
    ['"required"', 'required'],
  ])('refuses tool_choice forcing %s with a 400 that explains why', async (_, toolChoice) => {
    const res = await postChat(gw.httpUrl, { model: 'm', messages: user('weather?'), tools: [], tool_choice: toolChoice });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; param: string; type: string; message: string } };
    expect(error).toMatchObject({ code: 'tool_choice_unsupported', param: 'tool_choice', type: 'invalid_request_error' });
    expect(error.message).toContain('Claude Code, which uses its own tools');
  });

  it('accepts tool_choice "none"', async () => {
    const res = await postChat(gw.httpUrl, { model: 'm', messages: user('plain'), tool_choice: 'none' });
    expect(res.status).toBe(200);
  });
});
