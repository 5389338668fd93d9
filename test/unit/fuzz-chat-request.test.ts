/**
 * Property tests of everything that parses a chat-completion request: the body schema, the turn
 * text, the session identity, and the route handler on a real node-server listener (streams are
 * written to Node's response, so the handler needs one) with a stand-in core. Whatever arrives, the
 * answer is a value or a typed error (an OpenAI error body with 400/415), never a throw.
 */
import type { AddressInfo } from 'node:net';
import { serve, type HttpBindings } from '@hono/node-server';
import fc from 'fast-check';
import { Hono } from 'hono';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeZodError } from '@synthesis-agent/protocol';
import { chatCompletionsHandler } from '../../packages/openclaw-plugin/src/chat-completions.js';
import { ChatRequestSchema, contentText, turnText } from '../../packages/openclaw-plugin/src/chat-request.js';
import { createMetrics } from '../../packages/openclaw-plugin/src/metrics.js';
import { parseRuntimeLine, resolveSessionIdentity } from '../../packages/openclaw-plugin/src/session-key.js';
import type { SessionCore, TurnRequest } from '../../packages/openclaw-plugin/src/turn.js';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

const textPart = fc.record({ type: fc.constant('text'), text: fc.string() });
const content = fc.oneof(fc.string(), fc.array(textPart, { maxLength: 3 }));
const validMessage = fc.oneof(
  fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'tool'), content }),
  fc.record({ role: fc.constant('assistant'), content: fc.oneof(content, fc.constant(null)) }),
);
const validRequest = fc.record(
  {
    model: fc.string({ minLength: 1 }),
    messages: fc
      .tuple(fc.array(validMessage, { maxLength: 6 }), fc.record({ role: fc.constant('user'), content }), fc.array(validMessage, { maxLength: 3 }))
      .map(([before, user, after]) => [...before, user, ...after]),
    stream: fc.boolean(),
    user: fc.string(),
  },
  { requiredKeys: ['model', 'messages'] },
);

/** Valid requests with one field replaced by anything: the shapes a confused client sends. */
const nearValidRequest = fc
  .tuple(validRequest, fc.constantFrom('model', 'messages', 'stream', 'stream_options', 'user', 'prompt_cache_key', 'tools', 'messages.0.role', 'messages.0.content'), fc.jsonValue())
  .map(([request, field, value]) => {
    const copy = structuredClone(request) as Record<string, any>;
    const [head, index, leaf] = field.split('.');
    if (leaf !== undefined) copy[head!][Number(index)][leaf] = value;
    else copy[head!] = value;
    return copy;
  });

const anyBody = fc.oneof(fc.jsonValue(), nearValidRequest, validRequest);

describe('ChatRequestSchema and turnText', () => {
  it('accepts every well-formed request, and its turn text is the user text after the last assistant message', () => {
    fc.assert(
      fc.property(validRequest, (request) => {
        const parsed = ChatRequestSchema.safeParse(request);
        expect(parsed.success).toBe(true);
        const messages = parsed.data!.messages;
        const turn = turnText(messages);
        const lastAssistant = messages.map((m) => m.role).lastIndexOf('assistant');
        const expected = messages
          .slice(lastAssistant + 1)
          .filter((m) => m.role === 'user')
          .map((m) => contentText(m.content))
          .join('\n\n');
        expect(turn.content).toBe(expected);
        expect(turn.history.every((h) => h.content !== '' && (h.role === 'user' || h.role === 'assistant'))).toBe(true);
      }),
    );
  });

  it('never throws on any input: a parsed request or an error a user can read', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        const parsed = ChatRequestSchema.safeParse(body);
        if (parsed.success) {
          expect(parsed.data.messages.some((m) => m.role === 'user')).toBe(true);
          expect(typeof turnText(parsed.data.messages).content).toBe('string');
        } else {
          expect(describeZodError(parsed.error)).toMatch(/\S/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a message role outside the five known ones', () => {
    fc.assert(
      fc.property(fc.string().filter((r) => !(ROLES as readonly string[]).includes(r)), (role) => {
        expect(ChatRequestSchema.safeParse({ model: 'm', messages: [{ role: 'user', content: 'x' }, { role, content: 'y' }] }).success).toBe(false);
      }),
    );
  });
});

describe('session identity', () => {
  const headerNames = ['x-openclaw-agent-id', 'x-openclaw-chat-id', 'x-session-affinity', 'session_id'];
  const runtimeLine = fc
    .tuple(fc.string(), fc.string(), fc.string())
    .map(([agent, sessionId, junk]) => `${junk}\nRuntime: agent=${agent} | sessionId=${sessionId} | ${junk}\n${junk}`);

  it('always yields a non-empty `${agentId}::${chatId}` key', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...headerNames), fc.string()),
        fc.record({ user: fc.string(), prompt_cache_key: fc.string() }, { requiredKeys: [] }),
        fc.oneof(fc.string(), runtimeLine),
        (headers, body, firstUserText) => {
          const identity = resolveSessionIdentity({ header: (name) => headers[name], body, firstUserText });
          expect(identity.agentId.trim()).not.toBe('');
          expect(identity.chatId.trim()).not.toBe('');
          expect(identity.key).toBe(`${identity.agentId}::${identity.chatId}`);
        },
      ),
    );
  });

  it('parses any text into string fields without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), runtimeLine), (text) => {
        expect(Object.values(parseRuntimeLine(text)).every((v) => typeof v === 'string')).toBe(true);
      }),
    );
  });
});

describe('POST /v1/chat/completions handler', () => {
  const turns: TurnRequest[] = [];
  const core: SessionCore = {
    runTurn: async (request) => {
      turns.push(request);
      return { text: `echo: ${request.content}`, chunks: [] };
    },
    sessions: () => [],
  };
  const app = new Hono<{ Bindings: HttpBindings }>().post(
    '/v1/chat/completions',
    chatCompletionsHandler({ core, logger: pino({ level: 'silent' }), metrics: createMetrics(), heartbeatMs: 60_000, replyMode: 'buffered' }),
  );
  let server: ReturnType<typeof serve>;
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const rawBody = fc.oneof(
    // A known-good body among the random ones, so the property reliably reaches the core too.
    fc.constant(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })),
    anyBody.map((b) => JSON.stringify(b)),
    fc.string(),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => new TextDecoder().decode(bytes)),
  );
  const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', '', 'application/jsonx');
  const headers = fc.dictionary(fc.constantFrom('x-openclaw-workspace', 'x-openclaw-chat-id', 'x-openclaw-agent-id'), fc.string().map((s) => s.replace(/[^\x20-\x7e]/g, '')));

  it('answers every body with a completion or an OpenAI error (400/415), never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, contentType, headers, async (body, type, extra) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { ...(type ? { 'content-type': type } : {}), ...extra },
          body,
        });
        if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
          expect(res.status).toBe(200);
          expect(await res.text()).toMatch(/data: \[DONE\]\s*$/);
          return;
        }
        const json = (await res.json()) as { error?: { code: unknown; message: unknown }; object?: string };
        if (res.status === 200) {
          expect(json.object).toBe('chat.completion');
        } else {
          expect([400, 415]).toContain(res.status);
          expect(typeof json.error?.code).toBe('string');
          expect(typeof json.error?.message).toBe('string');
        }
      }),
      { numRuns: 300 },
    );
    // The generators reach the core too, not only the error paths.
    expect(turns.length).toBeGreaterThan(0);
  });
});
