/**
 * The session core end to end (docs/sessions.md): continuity across Claude and gateway restarts,
 * history bootstrap, --max-sessions and idle reaping, turn order when a client goes away, turn
 * timeouts and the system-prompt policy. Real gateway CLI, fake Claude in a PTY, real plugin.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_BEGIN, HISTORY_END } from '../../packages/openclaw-plugin/src/history-bootstrap.js';
import { ROOT, startTestGateway, stopAllGateways, type LogLine, type TestGateway } from '../helpers/gateway.js';
import { waitForExit } from '../helpers/processes.js';
import { postChat, readSse } from '../helpers/sse.js';

afterAll(stopAllGateways);

type Message = { role: 'system' | 'user' | 'assistant'; content: string };

const keyOf = (chat: string) => `default::${chat}`;
const headersOf = (chat: string) => ({ 'X-Openclaw-Chat-Id': chat });

/** One non-streaming turn on session `chat`; resolves with the answer text. */
async function ask(gw: TestGateway, chat: string, input: string | Message[]): Promise<string> {
  const messages = typeof input === 'string' ? [{ role: 'user' as const, content: input }] : input;
  const res = await gw.openai({ headers: headersOf(chat) }).chat.completions.create({ model: 'claude-code', messages });
  return res.choices[0]?.message.content ?? '';
}

/** The OpenAI error a turn failed with. */
async function askError(gw: TestGateway, chat: string, input: string | Message[]): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await ask(gw, chat, input).then(
    (text) => new Error(`expected an error, got ${JSON.stringify(text)}`),
    (e: unknown) => e,
  );
  if (!(err instanceof OpenAI.APIError)) throw err;
  return err;
}

const errorCode = (err: InstanceType<typeof OpenAI.APIError>) => (err.error as { code: string }).code;

async function sessionInfo(gw: TestGateway, chat: string) {
  const info = (await gw.healthz()).sessions.find((s) => s.key === keyOf(chat));
  if (!info) throw new Error(`no session ${keyOf(chat)} on /healthz`);
  return info;
}

interface FakeTranscript {
  sessionId: string;
  systemPrompt?: string;
  messages: string[];
  violations: string[];
}

/** What the fake Claude persisted for a Claude session id (its stand-in for Claude's transcript). */
function transcript(stateDir: string, claudeSessionId: string): FakeTranscript {
  const file = path.join(stateDir, 'claude-config', 'fake-claude', `${claudeSessionId}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as FakeTranscript;
}

type SavedSessions = Record<string, { claudeSessionId: string; workspace: string; hasTranscript: boolean }>;

/** The gateway's session map on disk; empty until the first save. */
function savedSessions(stateDir: string): SavedSessions {
  try {
    return (JSON.parse(readFileSync(path.join(stateDir, 'sessions.json'), 'utf8')) as { sessions: SavedSessions }).sessions;
  } catch {
    return {};
  }
}

/** Polls `check` until it holds; for state that has no log line (files, process lists). */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A sample's value in GET /metrics (0 when the series does not exist yet). */
async function metric(gw: TestGateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const have = (m[2] ?? '').split(',');
    if (wanted.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

const isLine = (msg: string, chat: string) => (l: LogLine) => l.msg === msg && l.session === keyOf(chat);
const indexOf = (gw: TestGateway, match: (l: LogLine) => boolean, from = 0) => gw.logs.findIndex((l, i) => i >= from && match(l));

/** Starts a streaming turn and aborts it once Claude has it, as a client that went away. */
async function abandonedStream(gw: TestGateway, chat: string, content: string): Promise<void> {
  const mark = gw.logs.length;
  const controller = new AbortController();
  const response = await fetch(`${gw.httpUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headersOf(chat) },
    body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content }] }),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  await gw.waitForLog(isLine('turn delivered to Claude', chat), 60_000, mark);
  controller.abort();
  await gw.waitForLog((l) => l.msg === 'client disconnected mid-stream; the Claude turn continues' && l.session === keyOf(chat), 5000, mark);
}

/** Waits until a turn sent after an abandoned one is queued behind it on /healthz. */
const queuedBehind = (gw: TestGateway, chat: string) =>
  waitFor(async () => (await sessionInfo(gw, chat)).queued === 1, `a queued turn on ${keyOf(chat)}`);

describe('default settings', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--history-max-chars', '300'] });
  });
  afterAll(async () => {
    expect((await gw.stop()).survivors).toEqual([]);
  });

  it('resumes the conversation with --resume after Claude crashes', async () => {
    const chat = 'crash-resume';
    const mark = gw.logs.length;
    expect(await ask(gw, chat, 'remember apples')).toBe('echo: remember apples');
    const first = await gw.waitForLog(isLine('starting Claude session', chat), 1000, mark);
    expect(first.resume).toBe(false);

    const crashed = await askError(gw, chat, '[[crash]]');
    expect(crashed.status).toBe(502);
    expect(errorCode(crashed)).toBe('claude_exited');

    const again = gw.logs.length;
    expect(await ask(gw, chat, '[[history]]')).toBe('history:\nremember apples\n[[crash]]');
    const second = await gw.waitForLog(isLine('starting Claude session', chat), 1000, again);
    expect(second).toMatchObject({ resume: true, claudeSession: first.claudeSession });
    expect(transcript(gw.stateDir, first.claudeSession as string).messages).toEqual(['remember apples', '[[crash]]', '[[history]]']);
  });

  it('replays the earlier turns a fresh session has not seen, once, between markers; ignores the system message', async () => {
    const chat = 'bootstrap';
    const earlier: Message[] = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'what is 2+2?' },
      { role: 'assistant', content: '4' },
      { role: 'user', content: 'and 3+3?' },
      { role: 'assistant', content: '6' },
    ];
    const mark = gw.logs.length;
    const answer = await ask(gw, chat, [...earlier, { role: 'user', content: 'thanks' }]);
    expect(answer).toBe(
      `echo: ${[HISTORY_BEGIN, '[user]: what is 2+2?', '[assistant]: 4', '[user]: and 3+3?', '[assistant]: 6', HISTORY_END, '', 'thanks'].join('\n')}`,
    );
    expect(await gw.waitForLog(isLine('fresh Claude session: replaying earlier turns', chat), 1000, mark)).toMatchObject({
      replayed: 4,
      omitted: 0,
    });
    // Claude now has the conversation itself: the next turn carries only the new message.
    const next = [...earlier, { role: 'user' as const, content: 'thanks' }, { role: 'assistant' as const, content: answer }];
    expect(await ask(gw, chat, [...next, { role: 'user', content: 'bye' }])).toBe('echo: bye');
    // --system-prompt ignore (the default): no --append-system-prompt despite the system message.
    const { claudeSessionId } = await sessionInfo(gw, chat);
    expect(transcript(gw.stateDir, claudeSessionId)).not.toHaveProperty('systemPrompt');
  });

  it('bounds the replayed transcript by --history-max-chars, dropping the oldest turns', async () => {
    const chat = 'bootstrap-bound';
    const history: Message[] = [1, 2, 3, 4, 5, 6].map((n) => ({
      role: n % 2 ? 'user' : 'assistant',
      content: `message ${n} ${'.'.repeat(90)}`,
    }));
    const mark = gw.logs.length;
    const answer = await ask(gw, chat, [...history, { role: 'user', content: 'newest' }]);
    const replay = answer.slice(answer.indexOf(HISTORY_BEGIN), answer.indexOf(HISTORY_END));
    expect(replay).toContain('(4 older messages omitted)');
    expect(replay).not.toContain('message 4 ');
    expect(replay).toContain(`[user]: message 5 `);
    expect(replay).toContain(`[assistant]: message 6 `);
    const lines = replay.slice(replay.indexOf('[user]: message 5'), -1);
    expect(lines.length).toBeLessThanOrEqual(300);
    expect(answer.endsWith(`${HISTORY_END}\n\nnewest`)).toBe(true);
    expect(await gw.waitForLog(isLine('fresh Claude session: replaying earlier turns', chat), 1000, mark)).toMatchObject({
      replayed: 2,
      omitted: 4,
    });
  });

  it('lets a turn whose client went away finish before the next one, and drops its late reply', async () => {
    const chat = 'abort-drop';
    const dropped = await metric(gw, 'synthesis_late_replies_total', { action: 'dropped' });
    const mark = gw.logs.length;
    await abandonedStream(gw, chat, '[[slow:1000]] first');
    const second = ask(gw, chat, 'second');
    await queuedBehind(gw, chat);
    expect(await second).toBe('echo: second');

    const late = indexOf(gw, (l) => l.msg === 'final reply arrived after its caller went away' && l.session === keyOf(chat), mark);
    expect(gw.logs[late]).toMatchObject({ action: 'dropped' });
    const delivered = gw.logs.map((l, i) => (i >= mark && isLine('turn delivered to Claude', chat)(l) ? i : -1)).filter((i) => i >= 0);
    expect(delivered).toHaveLength(2);
    expect(late).toBeLessThan(delivered[1]!);
    const { claudeSessionId } = await sessionInfo(gw, chat);
    // A message injected mid-turn would have become a side note ("violation") of the first turn.
    expect(transcript(gw.stateDir, claudeSessionId)).toMatchObject({ messages: ['[[slow:1000]] first', 'second'], violations: [] });
    expect(await metric(gw, 'synthesis_late_replies_total', { action: 'dropped' })).toBe(dropped + 1);
  });
});

describe('the other policies: --history-bootstrap off, --system-prompt append, --deliver-late-replies', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--history-bootstrap', 'off', '--system-prompt', 'append', '--deliver-late-replies'] });
  });
  afterAll(async () => {
    expect((await gw.stop()).survivors).toEqual([]);
  });

  it('sends a fresh session only the new message when history bootstrap is off', async () => {
    const chat = 'no-bootstrap';
    const mark = gw.logs.length;
    const answer = await ask(gw, chat, [
      { role: 'user', content: 'old question' },
      { role: 'assistant', content: 'old answer' },
      { role: 'user', content: 'new question' },
    ]);
    expect(answer).toBe('echo: new question');
    expect(indexOf(gw, isLine('fresh Claude session: replaying earlier turns', chat), mark)).toBe(-1);
  });

  it('passes the system message with --append-system-prompt; a change applies at the next spawn', async () => {
    const chat = 'system-append';
    const turn = (system: string, content: string): Message[] => [
      { role: 'system', content: system },
      { role: 'user', content },
    ];
    await ask(gw, chat, turn('be a pirate', 'hi'));
    const { claudeSessionId } = await sessionInfo(gw, chat);
    expect(transcript(gw.stateDir, claudeSessionId).systemPrompt).toBe('be a pirate');

    // The running Claude keeps the prompt it was launched with.
    await ask(gw, chat, turn('be a robot', 'still there?'));
    expect(transcript(gw.stateDir, claudeSessionId).systemPrompt).toBe('be a pirate');

    expect(errorCode(await askError(gw, chat, turn('be a robot', '[[crash]]')))).toBe('claude_exited');
    expect(await ask(gw, chat, turn('be a robot', '[[history]]'))).toBe('history:\nhi\nstill there?\n[[crash]]');
    expect(transcript(gw.stateDir, claudeSessionId).systemPrompt).toBe('be a robot');
  });

  it('prepends a late reply, marked, to the next answer', async () => {
    const chat = 'abort-keep';
    const kept = await metric(gw, 'synthesis_late_replies_total', { action: 'kept' });
    await abandonedStream(gw, chat, '[[slow:1000]] first');
    const second = ask(gw, chat, 'second');
    await queuedBehind(gw, chat);
    expect(await second).toBe(
      '[Reply to an earlier message whose request was cancelled]\necho: [[slow:1000]] first\n\n[Reply to this message]\necho: second',
    );
    expect(await metric(gw, 'synthesis_late_replies_total', { action: 'kept' })).toBe(kept + 1);
    // Delivered once: the answer after that has no late part.
    expect(await ask(gw, chat, 'third')).toBe('echo: third');
  });

  it('treats an aborted non-streaming request the same way', async () => {
    const chat = 'abort-fetch';
    await ask(gw, chat, 'warm');
    const mark = gw.logs.length;
    const controller = new AbortController();
    const abandoned = postChatWithSignal(gw, chat, '[[slow:1000]] unseen', controller.signal).catch((e: unknown) => e);
    await gw.waitForLog(isLine('turn delivered to Claude', chat), 60_000, mark);
    controller.abort();
    expect(((await abandoned) as Error).name).toBe('AbortError');
    expect(await ask(gw, chat, 'after')).toBe(
      '[Reply to an earlier message whose request was cancelled]\necho: [[slow:1000]] unseen\n\n[Reply to this message]\necho: after',
    );
  });
});

function postChatWithSignal(gw: TestGateway, chat: string, content: string, signal: AbortSignal): Promise<Response> {
  return fetch(`${gw.httpUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headersOf(chat) },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }),
    signal,
  });
}

describe('continuity across gateway restarts (shared --state-dir)', () => {
  let stateDir: string;

  beforeAll(() => {
    stateDir = mkdtempSync(path.join(tmpdir(), 'synthesis-restart-'));
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('resumes each conversation after a gateway restart', async () => {
    const chat = 'restart';
    const gw1 = await startTestGateway({ stateDir });
    expect(await ask(gw1, chat, 'remember pears')).toBe('echo: remember pears');
    const { claudeSessionId } = await sessionInfo(gw1, chat);
    expect((await gw1.stop()).survivors).toEqual([]);
    expect(savedSessions(stateDir)[keyOf(chat)]).toMatchObject({ claudeSessionId, workspace: ROOT, hasTranscript: true });

    const gw2 = await startTestGateway({ stateDir });
    // OpenClaw sends the whole conversation again; Claude's own transcript makes a replay unneeded.
    const answer = await ask(gw2, chat, [
      { role: 'user', content: 'remember pears' },
      { role: 'assistant', content: 'echo: remember pears' },
      { role: 'user', content: '[[history]]' },
    ]);
    expect(answer).toBe('history:\nremember pears');
    expect(await gw2.waitForLog(isLine('starting Claude session', chat))).toMatchObject({ resume: true, claudeSession: claudeSessionId });
    expect(indexOf(gw2, isLine('fresh Claude session: replaying earlier turns', chat))).toBe(-1);
    expect(transcript(stateDir, claudeSessionId)).toMatchObject({ sessionId: claudeSessionId, messages: ['remember pears', '[[history]]'] });
    expect((await gw2.stop()).survivors).toEqual([]);
  });

  it('resumes after the gateway is killed, from the state file it wrote before', async () => {
    const chat = 'killed';
    const gw1 = await startTestGateway({ stateDir });
    expect(await ask(gw1, chat, 'remember plums')).toBe('echo: remember plums');
    const { claudeSessionId } = await sessionInfo(gw1, chat);
    await waitFor(() => savedSessions(stateDir)[keyOf(chat)]?.hasTranscript === true, 'the session map on disk');
    expect((await gw1.stop('SIGKILL')).survivors).toEqual([]);

    const gw2 = await startTestGateway({ stateDir });
    expect(await ask(gw2, chat, '[[history]]')).toBe('history:\nremember plums');
    expect(await gw2.waitForLog(isLine('starting Claude session', chat))).toMatchObject({ resume: true, claudeSession: claudeSessionId });
    expect((await gw2.stop()).survivors).toEqual([]);
  });

  it('starts fresh, says why and replays the history when there is no transcript to resume', async () => {
    const chat = 'lost';
    // A session the map knows but Claude never saved, e.g. killed before its first turn.
    const lostId = randomUUID();
    const sessions = { [keyOf(chat)]: { claudeSessionId: lostId, workspace: ROOT, lastUsed: new Date().toISOString(), hasTranscript: true } };
    writeFileSync(path.join(stateDir, 'sessions.json'), JSON.stringify({ version: 1, sessions }));

    const gw = await startTestGateway({ stateDir });
    const answer = await ask(gw, chat, [
      { role: 'user', content: 'earlier question' },
      { role: 'assistant', content: 'earlier answer' },
      { role: 'user', content: 'hello again' },
    ]);
    expect(answer).toBe(
      `echo: ${[HISTORY_BEGIN, '[user]: earlier question', '[assistant]: earlier answer', HISTORY_END, '', 'hello again'].join('\n')}`,
    );
    expect(await gw.waitForLog(isLine('resume failed (no conversation found); starting a fresh Claude session', chat))).toMatchObject({
      level: 40,
      claudeSession: lostId,
    });
    const { claudeSessionId } = await sessionInfo(gw, chat);
    expect(claudeSessionId).not.toBe(lostId);
    expect((await gw.stop()).survivors).toEqual([]);
    expect(savedSessions(stateDir)[keyOf(chat)]).toMatchObject({ claudeSessionId, hasTranscript: true });
  });
});

describe('--max-sessions', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--max-sessions', '2'] });
  });
  afterAll(async () => {
    expect((await gw.stop()).survivors).toEqual([]);
  });

  it('evicts the least recently used idle session for a new one, which later resumes', async () => {
    await ask(gw, 'lru-a', 'a1');
    await ask(gw, 'lru-b', 'b1');
    await ask(gw, 'lru-a', 'a2');
    const bPid = (await sessionInfo(gw, 'lru-b')).pid!;
    const mark = gw.logs.length;
    await ask(gw, 'lru-c', 'c1');
    expect(await gw.waitForLog((l) => l.msg === 'evicting least recently used idle session', 1000, mark)).toMatchObject({
      session: keyOf('lru-b'),
      for: keyOf('lru-c'),
    });
    await waitForExit([bPid], 60_000);
    const health = await gw.healthz();
    expect(health.limits.maxSessions).toBe(2);
    expect(health.liveSessions).toBe(2);
    const state = Object.fromEntries(health.sessions.map((s) => [s.key, s.state]));
    expect(state).toMatchObject({ [keyOf('lru-a')]: 'ready', [keyOf('lru-b')]: 'stopped', [keyOf('lru-c')]: 'ready' });
    // The evicted conversation comes back with --resume (evicting "a", now the oldest).
    expect(await ask(gw, 'lru-b', '[[history]]')).toBe('history:\nb1');
    expect((await sessionInfo(gw, 'lru-a')).state).toBe('stopped');
  });

  it('answers 429 (capacity, Retry-After) when every live session is busy', async () => {
    const mark = gw.logs.length;
    const busy = ['busy-1', 'busy-2'].map((chat) => ask(gw, chat, '[[slow:2000]] busy'));
    await gw.waitForLog(isLine('turn delivered to Claude', 'busy-1'), 60_000, mark);
    await gw.waitForLog(isLine('turn delivered to Claude', 'busy-2'), 60_000, mark);
    const err = await askError(gw, 'busy-3', 'no room');
    expect(err.status).toBe(429);
    expect(errorCode(err)).toBe('capacity');
    expect(Number(err.headers?.get('retry-after'))).toBeGreaterThan(0);
    // A stream is refused before it opens, with the same status and header.
    const streamed = await postChat(gw.httpUrl, { model: 'm', stream: true, messages: [{ role: 'user', content: 'no room' }] }, headersOf('busy-4'));
    expect(streamed.status).toBe(429);
    expect(Number(streamed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('capacity');
    expect(await Promise.all(busy)).toEqual(['echo: [[slow:2000]] busy', 'echo: [[slow:2000]] busy']);
  });

  it('evicts one idle session per start when new sessions start at once', async () => {
    await ask(gw, 'idle-1', 'hi');
    await ask(gw, 'idle-2', 'hi');
    const live = (await gw.healthz()).sessions.filter((s) => s.pid !== undefined);
    expect(live.map((s) => s.key).sort()).toEqual([keyOf('idle-1'), keyOf('idle-2')]);
    const answers = await Promise.all(['burst-1', 'burst-2'].map((chat) => ask(gw, chat, 'hi')));
    expect(answers).toEqual(['echo: hi', 'echo: hi']);
    await waitForExit(live.map((s) => s.pid!), 60_000);
    const health = await gw.healthz();
    expect(health.liveSessions).toBe(2);
    expect(health.sessions.filter((s) => s.pid !== undefined).map((s) => s.key).sort()).toEqual([keyOf('burst-1'), keyOf('burst-2')]);
  });
});

describe('--idle-timeout-ms', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--idle-timeout-ms', '300'] });
  });
  afterAll(async () => {
    expect((await gw.stop()).survivors).toEqual([]);
  });

  it('stops an idle Claude, reports it on /healthz and resumes it on the next turn', async () => {
    const chat = 'idle';
    const mark = gw.logs.length;
    // A turn longer than the idle timeout is not idle time.
    expect(await ask(gw, chat, '[[slow:700]] remember figs')).toBe('echo: [[slow:700]] remember figs');
    const { pid } = await gw.waitForLog(isLine('Claude session ready', chat), 1000, mark);
    await gw.waitForLog(isLine('reaping idle Claude process', chat), 60_000, mark);
    await waitForExit([pid as number], 60_000);
    // The pid can be gone a moment before the session has seen its exit.
    await gw.waitForLog(isLine('Claude process stopped', chat), 60_000, mark);
    const health = await gw.healthz();
    expect(health.limits).toMatchObject({ idleTimeoutMs: 300, maxSessions: 16 });
    expect(health.liveSessions).toBe(0);
    expect(health.sessions.find((s) => s.key === keyOf(chat))).toMatchObject({ state: 'stopped', turns: 1 });
    expect(health.sessions.find((s) => s.key === keyOf(chat))).not.toHaveProperty('pid');

    const again = gw.logs.length;
    expect(await ask(gw, chat, '[[history]]')).toBe('history:\n[[slow:700]] remember figs');
    expect(await gw.waitForLog(isLine('starting Claude session', chat), 1000, again)).toMatchObject({ resume: true });
  });
});

describe('--turn-timeout-ms', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--turn-timeout-ms', '1500'] });
  });
  afterAll(async () => {
    expect((await gw.stop()).survivors).toEqual([]);
  });

  it('answers 504, restarts the wedged Claude and serves the queued turn with the context kept', async () => {
    const chat = 'wedged';
    expect(await ask(gw, chat, 'remember kiwis')).toBe('echo: remember kiwis');
    const { pid, claudeSessionId } = await sessionInfo(gw, chat);
    const mark = gw.logs.length;
    const wedged = askError(gw, chat, '[[never]]');
    await gw.waitForLog(isLine('turn delivered to Claude', chat), 60_000, mark);
    const queued = ask(gw, chat, '[[history]]');
    await queuedBehind(gw, chat);

    const err = await wedged;
    expect(err.status).toBe(504);
    expect(errorCode(err)).toBe('turn_timeout');
    expect(await queued).toBe('history:\nremember kiwis\n[[never]]');
    await waitForExit([pid!], 60_000);
    expect(await gw.waitForLog((l) => l.msg === 'stopping Claude process' && l.session === keyOf(chat), 1000, mark)).toMatchObject({
      reason: 'turn_timeout',
    });
    expect(await gw.waitForLog(isLine('starting Claude session', chat), 1000, mark)).toMatchObject({ resume: true, claudeSession: claudeSessionId });
    // The queued turn went to the new Claude, not into the wedged one's turn.
    expect(transcript(gw.stateDir, claudeSessionId).violations).toEqual([]);
    expect(await metric(gw, 'synthesis_claude_restarts_total', { reason: 'turn_timeout' })).toBe(1);
  });

  it('ends a timed-out stream with an error chunk and [DONE]', async () => {
    const chat = 'wedged-stream';
    const events = await readSse(await postChat(gw.httpUrl, { model: 'm', stream: true, messages: [{ role: 'user', content: '[[never]]' }] }, headersOf(chat)));
    expect(events.at(-1)).toBe('[DONE]');
    expect(JSON.parse(events.at(-2)!).error.code).toBe('turn_timeout');
    expect(await ask(gw, chat, 'back?')).toBe('echo: back?');
  });
});
