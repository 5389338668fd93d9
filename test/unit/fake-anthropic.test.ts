import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  parseChannelTags,
  replyArguments,
  startFakeAnthropic,
  type FakeAnthropic,
  type FakeAnthropicOptions,
} from '../fixtures/fake-anthropic/server.js';

const REPLY_TOOL = {
  name: 'mcp__synthesis__reply',
  description: 'Reply to the chat',
  input_schema: {
    type: 'object',
    properties: { chat_id: { type: 'string' }, text: { type: 'string' }, final: { type: 'boolean' } },
    required: ['text'],
  },
};
const BASH_TOOL = { name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: {} } };

// Claude Code's own shape: reminders first, the channel tag last, a role:"system" entry after it.
const channelTurn = (text: string, chatId = 'c1') => [
  {
    role: 'user',
    content: [
      { type: 'text', text: '<system-reminder>\nMessages arrive as <channel source="synthesis">x</channel>\n</system-reminder>\n' },
      { type: 'text', text: `<channel source="synthesis" chat_id="${chatId}" message_id="m1">\n${text}\n</channel>` },
    ],
  },
  { role: 'system', content: [{ type: 'text', text: "Today's date is 2026-11-22." }] },
];

interface SseEvent {
  event: string;
  data: any;
}

function parseSse(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const event = /^event: (.*)$/m.exec(chunk)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(chunk)?.[1] ?? 'null');
      return { event, data };
    });
}

/** The content blocks a client reassembles from the stream (tool input from its JSON deltas). */
function assemble(events: SseEvent[]) {
  const blocks: any[] = [];
  const partial: string[] = [];
  for (const { data } of events) {
    if (data.type === 'content_block_start') {
      blocks[data.index] = { ...data.content_block };
      partial[data.index] = '';
    } else if (data.type === 'content_block_delta') {
      if (data.delta.type === 'text_delta') blocks[data.index].text += data.delta.text;
      else partial[data.index] += data.delta.partial_json;
    } else if (data.type === 'content_block_stop' && blocks[data.index].type === 'tool_use') {
      blocks[data.index].input = JSON.parse(partial[data.index]!);
    }
  }
  const stop = events.find((e) => e.data.type === 'message_delta')?.data.delta.stop_reason;
  return { blocks, stop };
}

let fake: FakeAnthropic | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeAnthropicOptions = {}) {
  fake = await startFakeAnthropic(options);
  return fake;
}

async function post(body: unknown, query = '?beta=true') {
  const res = await fetch(`${fake!.url}/v1/messages${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-test', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
  return res;
}

async function stream(messages: unknown[], tools: unknown[] = [REPLY_TOOL]) {
  const res = await post({ model: 'claude-test', max_tokens: 100, stream: true, tools, messages });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return parseSse(await res.text());
}

describe('fake Anthropic Messages API', () => {
  it('answers the HEAD preflights Claude Code sends', async () => {
    const f = await start();
    for (const p of ['/api/hello', '/']) {
      const res = await fetch(f.url + p, { method: 'HEAD' });
      expect(res.status).toBe(200);
    }
    expect(f.requests.map((r) => [r.method, r.path, r.kind])).toEqual([
      ['HEAD', '/api/hello', 'preflight'],
      ['HEAD', '/', 'preflight'],
    ]);
  });

  it('streams a reply tool call in Anthropic event order, arguments built from the input_schema', async () => {
    await start();
    const events = await stream(channelTurn('hi there'));
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    expect(events[0]!.data.message).toMatchObject({ role: 'assistant', model: 'claude-test', content: [], stop_reason: null });
    expect(events[5]!.data.usage.output_tokens).toBeGreaterThan(0);
    const { blocks, stop } = assemble(events);
    expect(stop).toBe('tool_use');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({
      type: 'tool_use',
      name: 'mcp__synthesis__reply',
      input: { chat_id: 'c1', text: 'echo: hi there', final: true },
    });
    expect(blocks[0].id).toMatch(/^toolu_/);
  });

  it('ends the turn with text once the reply tool result comes back', async () => {
    await start();
    const first = assemble(await stream(channelTurn('hi')));
    const toolUse = first.blocks[0];
    const messages = [
      ...channelTurn('hi'),
      { role: 'assistant', content: [toolUse] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'sent' }] },
    ];
    const { blocks, stop } = assemble(await stream(messages));
    expect(stop).toBe('end_turn');
    expect(blocks).toEqual([{ type: 'text', text: 'Replied.' }]);
  });

  it('answers only channel messages no reply has covered, with string content and several at once', async () => {
    await start();
    const messages = [
      { role: 'user', content: '<channel source="synthesis" chat_id="a">one</channel>' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'mcp__synthesis__reply', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sent' },
          { type: 'text', text: '<channel source="synthesis" chat_id="b">two</channel>' },
          { type: 'text', text: '<channel source="synthesis" chat_id="c">three</channel>' },
        ],
      },
    ];
    const { blocks, stop } = assemble(await stream(messages));
    expect(stop).toBe('tool_use');
    expect(blocks.map((b) => b.input)).toEqual([
      { chat_id: 'b', text: 'echo: two', final: true },
      { chat_id: 'c', text: 'echo: three', final: true },
    ]);
  });

  it('does not take a channel tag quoted in a system reminder for a message', async () => {
    await start();
    const messages = [{ role: 'user', content: [channelTurn('x')[0]!.content[0]] }];
    const { blocks, stop } = assemble(await stream(messages));
    expect(stop).toBe('end_turn');
    expect(blocks).toEqual([{ type: 'text', text: 'ok' }]);
  });

  it('uses a pluggable answer function and waits answerDelayMs before replying', async () => {
    const f = await start({ answer: (m) => `${m.attributes.chat_id}:${m.content.toUpperCase()}`, answerDelayMs: 150 });
    const t0 = performance.now();
    const { blocks } = assemble(await stream(channelTurn('loud', 'room')));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(blocks[0].input.text).toBe('room:LOUD');
    expect(f.requests[0]!.kind).toBe('reply_tool_use');
  });

  it('permission probe: calls a tool outside --allowedTools first, then replies with its outcome', async () => {
    await start({ permissionProbe: true, answer: (_m, ctx) => (ctx.probe?.isError ? `denied: ${ctx.probe.text}` : 'ran') });
    const probe = assemble(await stream(channelTurn('go'), [BASH_TOOL, REPLY_TOOL]));
    expect(probe.stop).toBe('tool_use');
    expect(probe.blocks[0]).toMatchObject({ name: 'Bash', input: { command: 'touch fake-anthropic-probe.txt' } });
    const messages = [
      ...channelTurn('go'),
      { role: 'assistant', content: probe.blocks },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: probe.blocks[0].id, is_error: true, content: [{ type: 'text', text: 'user said no' }] }],
      },
    ];
    const reply = assemble(await stream(messages, [BASH_TOOL, REPLY_TOOL]));
    expect(reply.blocks[0]).toMatchObject({ name: 'mcp__synthesis__reply', input: { text: 'denied: user said no' } });
  });

  it('answers side calls minimally: plain text, or JSON matching output_config.format', async () => {
    const f = await start();
    const plain = await post({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'title?' }] });
    expect(await plain.json()).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn' });

    const schema = {
      type: 'object',
      properties: { title: { type: 'string' }, safe: { type: 'boolean' }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['title', 'safe', 'tags'],
    };
    const structured = await post({
      model: 'm',
      max_tokens: 10,
      tools: [REPLY_TOOL],
      stream: true,
      output_config: { format: { type: 'json_schema', schema } },
      messages: channelTurn('not for the model'),
    });
    const { blocks } = assemble(parseSse(await structured.text()));
    expect(JSON.parse(blocks[0].text)).toEqual({ title: 'Fake session', safe: false, tags: [] });

    const classifier = await post({ model: 'm', max_tokens: 10, tools: [REPLY_TOOL], stop_sequences: ['</block>'], messages: channelTurn('x') });
    expect(((await classifier.json()) as any).content[0].type).toBe('text');
    expect(f.requests.map((r) => r.kind)).toEqual(['side_call', 'side_call', 'side_call']);
  });

  it('records path, headers and parsed body, and waits for requests', async () => {
    const f = await start();
    const waiting = f.waitForRequest((r) => r.kind === 'reply_tool_use', 5_000);
    await stream(channelTurn('hi'));
    const r = await waiting;
    expect(r.path).toBe('/v1/messages?beta=true');
    expect(r.headers['x-api-key']).toBe('sk-test');
    expect(r.body.messages).toHaveLength(2);
    await expect(f.waitForRequest((q) => q.path === '/never', 50)).rejects.toThrow(/no matching request within 50 ms/);
  });

  it('scripts API errors and answers unknown routes with a 404 in Anthropic error format', async () => {
    const f = await start({ failMessages: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' } });
    const res = await post({ model: 'm', max_tokens: 1, messages: [] });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    const missing = await fetch(`${f.url}/v1/models`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.type).toBe('not_found_error');
  });

  it('counts tokens', async () => {
    await start();
    const res = await fetch(`${fake!.url}/v1/messages/count_tokens?beta=true`, { method: 'POST', body: JSON.stringify({ messages: [] }) });
    expect(((await res.json()) as any).input_tokens).toBeGreaterThan(0);
  });
});

describe('fake-anthropic helpers', () => {
  it('parses channel tags with attributes and escaped values', () => {
    expect(parseChannelTags('<channel source="s" chat_id="a&amp;b" ts="1">\nline 1\nline 2\n</channel>')).toEqual([
      { source: 's', attributes: { source: 's', chat_id: 'a&b', ts: '1' }, content: 'line 1\nline 2' },
    ]);
    expect(parseChannelTags('<channel>no source</channel>')).toEqual([]);
  });

  it('fills required properties of other reply schemas', () => {
    const schema = {
      type: 'object',
      properties: {
        message: { type: 'string' },
        mode: { type: 'string', enum: ['plain', 'markdown'] },
        priority: { type: 'integer' },
        chat_id: { type: 'string' },
        silent: { type: 'boolean' },
      },
      required: ['message', 'mode', 'priority', 'silent'],
    };
    const msg = { source: 's', attributes: { source: 's', chat_id: 'c9' }, content: 'x' };
    expect(replyArguments(schema, msg, 'hello')).toEqual({ message: 'hello', mode: 'plain', priority: 0, chat_id: 'c9', silent: true });
  });
});

describe('standalone fake-anthropic', () => {
  it('serves on the port it prints and stops on SIGTERM', async () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const script = path.resolve(here, '../fixtures/dist/fake-anthropic/server.js');
    expect(existsSync(script), `${script} is missing: run \`npm run build\` (npm run test:unit does)`).toBe(true);
    const child = spawn(process.execPath, [script, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no listening line within 10 s')), 10_000);
        createInterface({ input: child.stdout! }).once('line', (l) => {
          clearTimeout(timer);
          resolve(l);
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      expect(url).toBeDefined();
      expect((await fetch(`${url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
