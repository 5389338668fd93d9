/**
 * POST /v1/chat/completions: an OpenAI request becomes one turn on the session core; the answer
 * goes back as one chat.completion or as an SSE stream (docs/wire-protocol.md).
 *
 * Streaming sends a role delta at once and an empty-content `data:` delta every heartbeat: OpenClaw's
 * idle watchdog resets on every parsed data chunk but ignores SSE comments, and a Claude turn can
 * run for many minutes.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute } from 'node:path';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { describeZodError } from '@synthesis-agent/protocol';
import { ChatRequestSchema, contentText, turnText, type ChatRequest } from './chat-request.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { chunk, completion, errorBody, type CompletionIds } from './openai-format.js';
import { resolveSessionIdentity } from './session-key.js';
import { SseResponse } from './sse.js';
import { TurnError, type SessionCore, type TurnRequest } from './turn.js';
import { estimateUsage } from './usage.js';

const MAX_ID_CHARS = 512;

export interface ChatCompletionsOptions {
  core: SessionCore;
  logger: Logger;
  metrics: Metrics;
  heartbeatMs: number;
  replyMode: 'buffered' | 'live';
}

class BadRequest extends Error {
  constructor(
    readonly status: 400 | 415,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** Hono context on @hono/node-server: streams are written to its Node response. */
export type NodeContext = Context<{ Bindings: HttpBindings }>;

export function chatCompletionsHandler(options: ChatCompletionsOptions) {
  return async (c: NodeContext) => {
    let body: ChatRequest;
    let turn: Omit<TurnRequest, 'signal' | 'onChunk'>;
    try {
      body = await readBody(c);
      turn = toTurn(c, body);
    } catch (err) {
      if (err instanceof BadRequest) return c.json(errorBody(err.status, err.code, err.message, err.param), err.status);
      throw err;
    }
    const ids: CompletionIds = { id: `chatcmpl-${turn.requestId}`, created: Math.floor(Date.now() / 1000), model: body.model };
    const log = options.logger.child({ session: turn.sessionKey, request: turn.requestId });
    if (body.tools?.length) log.debug({ tools: body.tools.length }, 'client tools ignored: Claude Code uses its own tools');
    const promptText = body.messages.map((m) => contentText(m.content)).join('\n');
    const includeUsage = body.stream_options?.include_usage === true;

    if (!body.stream) {
      try {
        const result = await options.core.runTurn({ ...turn, signal: c.req.raw.signal });
        return c.json(completion(ids, result.text, estimateUsage(promptText, result.text)));
      } catch (err) {
        return turnErrorResponse(c, err, log);
      }
    }

    // Refusals known now get their real status (429 + Retry-After), not an error event in a 200.
    const refused = options.core.admissionError?.(turn);
    if (refused) return turnErrorResponse(c, refused, log);

    const sse = new SseResponse(c.env.outgoing);
    sse.signal.addEventListener('abort', () => log.info('client disconnected mid-stream; the Claude turn continues'));
    void streamTurn(sse, { options, turn, ids, log, promptText, includeUsage })
      .catch((err: unknown) => log.error({ err }, 'streaming a turn failed'))
      .finally(() => sse.end());
    return RESPONSE_ALREADY_SENT;
  };
}

interface StreamedTurn {
  options: ChatCompletionsOptions;
  turn: Omit<TurnRequest, 'signal' | 'onChunk'>;
  ids: CompletionIds;
  log: Logger;
  promptText: string;
  includeUsage: boolean;
}

/** A failed turn becomes an error event: the stream is already a 200. */
async function streamTurn(sse: SseResponse, { options, turn, ids, log, promptText, includeUsage }: StreamedTurn): Promise<void> {
  const send = (data: unknown) => sse.send(JSON.stringify(data));
  // Live mode streams each progress chunk as it arrives; parts are separated by a blank
  // line, the same join buffered mode uses, so both modes produce the same text.
  let streamedParts = 0;
  const part = (text: string) => (text === '' ? [] : [chunk(ids, { content: streamedParts++ ? `\n\n${text}` : text })]);
  const sendPart = (text: string) => part(text).forEach((delta) => void send(delta));
  const heartbeat = setInterval(() => {
    options.metrics.heartbeats.inc();
    sse.heartbeat(JSON.stringify(chunk(ids, { content: '' })));
  }, options.heartbeatMs);
  const roleDelta = chunk(ids, { role: 'assistant', content: '' });
  let pendingRole: NodeJS.Immediate | undefined;
  let tail: unknown[];
  try {
    const result = options.core.runTurn({
      ...turn,
      signal: sse.signal,
      ...(options.replyMode === 'live' ? { onChunk: sendPart } : {}),
    });
    // The role delta waits until the turn has gone to Claude (a write that wakes the client costs
    // the sender real time on a VM, docs/performance.md) yet still precedes any reply: nothing
    // from the bridge is read before this loop iteration's immediates run.
    pendingRole = setImmediate(() => {
      pendingRole = undefined;
      void send(roleDelta);
    });
    const { text, final } = await result;
    tail = [
      ...part(options.replyMode === 'live' && streamedParts > 0 ? (final ?? text) : text),
      chunk(ids, {}, 'stop'),
      ...(includeUsage ? [{ ...chunk(ids, {}), choices: [], usage: estimateUsage(promptText, text) }] : []),
    ];
  } catch (err) {
    const { status, body: errBody } = describeTurnError(err, log);
    log.warn({ status, code: errBody.error.code }, 'turn failed after streaming began');
    tail = [errBody];
  } finally {
    clearInterval(heartbeat);
  }
  // A turn refused at once (bad workspace, shutting down) ends before the role delta went out.
  const head = pendingRole ? [roleDelta] : [];
  clearImmediate(pendingRole);
  await sse.sendAll([...[...head, ...tail].map((data) => JSON.stringify(data)), '[DONE]']);
}

async function readBody(c: Context): Promise<ChatRequest> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new BadRequest(415, 'unsupported_media_type', `Content-Type must be application/json, got "${type || 'none'}"`);
  }
  let json: unknown;
  try {
    json = await c.req.json();
  } catch (err) {
    throw new BadRequest(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = ChatRequestSchema.safeParse(json);
  if (!parsed.success) {
    const param = parsed.error.issues[0]?.path.join('.') || null;
    throw new BadRequest(400, 'invalid_request', describeZodError(parsed.error), param);
  }
  rejectForcedToolChoice(parsed.data.tool_choice);
  return parsed.data;
}

/** Claude Code runs its own tools; a request that forces one of the client's functions cannot be honoured. */
function rejectForcedToolChoice(toolChoice: unknown): void {
  if (toolChoice === undefined || toolChoice === null || toolChoice === 'auto' || toolChoice === 'none') return;
  throw new BadRequest(
    400,
    'tool_choice_unsupported',
    'tool_choice cannot force a function here: requests are answered by Claude Code, which uses its own tools, so client tools are ignored. Send tool_choice "auto" or leave it out.',
    'tool_choice',
  );
}

function toTurn(c: Context, body: ChatRequest): Omit<TurnRequest, 'signal' | 'onChunk'> {
  const firstUser = body.messages.find((m) => m.role === 'user');
  const identity = resolveSessionIdentity({
    header: (name) => c.req.header(name),
    body,
    firstUserText: contentText(firstUser?.content),
  });
  if (identity.key.length > MAX_ID_CHARS) {
    throw new BadRequest(400, 'invalid_session', `session identifiers may be at most ${MAX_ID_CHARS} characters together`);
  }
  const workspace = c.req.header('x-openclaw-workspace');
  if (workspace !== undefined && !isAbsolute(workspace)) {
    throw new BadRequest(400, 'invalid_workspace', `X-Openclaw-Workspace must be an absolute directory path, got "${workspace}"`);
  }
  const text = turnText(body.messages);
  if (text.content.trim() === '') {
    throw new BadRequest(400, 'empty_turn', 'there is no user text after the last assistant message', 'messages');
  }
  return {
    sessionKey: identity.key,
    chatId: identity.chatId,
    requestId: randomUUID(),
    content: text.content,
    history: text.history,
    ...(workspace ? { workspace } : {}),
    ...(text.systemPrompt ? { systemPrompt: text.systemPrompt } : {}),
  };
}

function describeTurnError(err: unknown, log: Logger) {
  if (err instanceof TurnError) return { status: err.status, body: errorBody(err.status, err.code, err.message), retryAfter: err.retryAfterSec };
  log.error({ err }, 'unexpected error in a turn');
  return { status: 500, body: errorBody(500, 'internal_error', 'internal gateway error; see the gateway log'), retryAfter: undefined };
}

function turnErrorResponse(c: Context, err: unknown, log: Logger) {
  const { status, body, retryAfter } = describeTurnError(err, log);
  if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
  return c.json(body, status as 400);
}
