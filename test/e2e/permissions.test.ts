/**
 * Claude Code's permission requests end to end: the fake Claude's `[[permission:TOOL]]` sends a
 * permission_request through the real claude-plugin, the gateway applies --permissions, and the
 * fake replies `permission <allow|deny> for TOOL` once it has a verdict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { waitForExit } from '../helpers/processes.js';
import { postChat, readSse, user } from '../helpers/sse.js';

afterAll(stopAllGateways);

type Message = { role: 'system' | 'user' | 'assistant'; content: string };

const OPENCLAW_CONTEXT = '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nchannel: test\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>';

/** Non-streaming answer text of one request in the conversation `user`. */
async function ask(gw: TestGateway, user: string, messages: Message[]): Promise<string> {
  const res = await postChat(gw.httpUrl, { model: 'claude-code', user, messages });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  return body.choices[0]!.message.content;
}

/** Streaming answer text (all content deltas joined). */
async function askStreaming(gw: TestGateway, user: string, messages: Message[]): Promise<string> {
  const events = await readSse(await postChat(gw.httpUrl, { model: 'claude-code', user, stream: true, messages }));
  expect(events.at(-1)).toBe('[DONE]');
  return events
    .slice(0, -1)
    .map((e) => JSON.parse(e).choices[0]?.delta?.content ?? '')
    .join('');
}

function requestIdIn(question: string): string {
  const id = /`yes ([a-z]{5})`/.exec(question)?.[1];
  expect(id, `no request id in: ${question}`).toBeDefined();
  return id!;
}

/** The conversation as OpenClaw sends it: full history, then the answer, then its context block. */
function answering(first: string, question: string, answer: string): Message[] {
  return [
    { role: 'system', content: 'You are a helpful agent.' },
    { role: 'user', content: first },
    { role: 'assistant', content: question },
    { role: 'user', content: answer },
    { role: 'user', content: OPENCLAW_CONTEXT },
  ];
}

describe('--permissions relay (default)', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--permission-allow', 'Read'] });
  });
  afterAll(async () => {
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  it('asks in the reply, and `yes <id>` (any case) lets the waiting turn answer that message', async () => {
    const question = await ask(gw, 'relay-yes', user('[[permission:Bash]] please'));
    expect(question).toContain('Claude wants to use the tool **Bash**');
    expect(question).toContain('Run Bash for this test');
    expect(question).toContain('{"tool":"Bash"}');
    const id = requestIdIn(question);
    expect(question).toContain(`\`no ${id}\``);

    const mark = gw.logs.length;
    const answer = await ask(gw, 'relay-yes', answering('[[permission:Bash]] please', question, `YES ${id.toUpperCase()}`));
    expect(answer).toBe('permission allow for Bash');
    await gw.waitForLog((l) => l.msg === 'permission answered by the user' && l.permission === id && l.behavior === 'allow', 60_000, mark);
    // The answer became a verdict, not a channel message: Claude saw no second turn.
    expect(gw.logs.slice(mark).filter((l) => l.msg === 'turn delivered to Claude')).toHaveLength(0);

    expect(await ask(gw, 'relay-yes', user('after'))).toBe('echo: after');
  });

  it('`no <id>` denies, over streaming too', async () => {
    const question = await askStreaming(gw, 'relay-no', user('[[permission:Write]]'));
    const id = requestIdIn(question);
    const answer = await askStreaming(gw, 'relay-no', answering('[[permission:Write]]', question, `no ${id}`));
    expect(answer).toBe('permission deny for Write');
  });

  it('answers allow-listed tools without asking, even in relay mode', async () => {
    expect(await ask(gw, 'relay-listed', user('[[permission:Read]]'))).toBe('permission allow for Read');
  });

  it('tells an unknown or repeated id why nothing happened; elsewhere "no worry" is an ordinary message', async () => {
    const question = await ask(gw, 'relay-unknown', user('[[permission:Bash]]'));
    const id = requestIdIn(question);
    const wrong = id === 'zzzzz' ? 'yyyyy' : 'zzzzz';

    const unknown = await ask(gw, 'relay-unknown', answering('[[permission:Bash]]', question, `yes ${wrong}`));
    expect(unknown).toContain(`There is no pending permission request \`${wrong}\``);
    expect(unknown).toContain(`Claude is waiting for an answer to \`${id}\``);

    expect(await ask(gw, 'relay-unknown', answering('[[permission:Bash]]', question, `no ${id}`))).toBe('permission deny for Bash');
    const again = await ask(gw, 'relay-unknown', answering('[[permission:Bash]]', question, `yes ${id}`));
    expect(again).toContain(`Permission request \`${id}\` was already answered`);

    // No question anywhere: an answer-shaped message is just a message.
    expect(await ask(gw, 'relay-casual', user('no worry'))).toBe('echo: no worry');
    // The client's history shows a question this gateway never asked (it restarted meanwhile).
    const stale = await ask(gw, 'relay-casual', answering('x', 'Reply `yes qwert` to allow it or `no qwert` to deny it.', 'yes qwert'));
    expect(stale).toContain('There is no pending permission request `qwert`');
  });

  it('reminds a user who writes something else while the question waits, then takes the answer', async () => {
    const question = await ask(gw, 'relay-remind', user('[[permission:Bash]]'));
    const id = requestIdIn(question);
    const reminder = await ask(gw, 'relay-remind', answering('[[permission:Bash]]', question, 'what is taking so long?'));
    expect(reminder).toMatch(/^Claude is still waiting for your answer/);
    expect(reminder).toContain(`\`yes ${id}\``);
    expect(await ask(gw, 'relay-remind', answering('[[permission:Bash]]', reminder, `yes ${id}`))).toBe('permission allow for Bash');
  });

  it('denies at once when the caller left before the question could be shown', async () => {
    const mark = gw.logs.length;
    const controller = new AbortController();
    const res = await fetch(`${gw.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', user: 'relay-gone', stream: true, messages: user('[[slow:300]][[permission:Bash]]') }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    await gw.waitForLog((l) => l.msg === 'turn delivered to Claude' && l.session === 'default::relay-gone', 60_000, mark);
    controller.abort();
    await gw.waitForLog((l) => l.msg === 'permission request with nobody to ask; denied' && l.tool === 'Bash', 10_000, mark);
    await gw.waitForLog((l) => l.msg === 'final reply arrived after its caller went away', 60_000, mark);
    expect(await ask(gw, 'relay-gone', user('next'))).toBe('echo: next');
  });

  it('tells an answer that comes after Claude crashed that it can no longer be delivered', async () => {
    const question = await ask(gw, 'relay-crash', user('[[permission:Bash]]'));
    const id = requestIdIn(question);
    const pid = (await gw.healthz()).sessions.find((s) => s.key === 'default::relay-crash')?.pid;
    expect(pid).toBeGreaterThan(0);
    const mark = gw.logs.length;
    process.kill(pid!, 'SIGKILL');
    await waitForExit([pid!]);
    await gw.waitForLog((l) => l.msg === 'Claude process exited' && l.pid === pid, 60_000, mark);

    const late = await ask(gw, 'relay-crash', answering('[[permission:Bash]]', question, `yes ${id}`));
    expect(late).toContain(`Permission request \`${id}\` can no longer be answered`);
    // The next ordinary message starts Claude again.
    expect(await ask(gw, 'relay-crash', user('still there?'))).toBe('echo: still there?');
  });
});

describe('--permission-ttl-ms', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--permission-ttl-ms', '1000'] });
  });
  afterAll(async () => {
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  it('denies an unanswered request when it expires, and says so to the late answer', async () => {
    const mark = gw.logs.length;
    const question = await ask(gw, 'ttl', user('[[permission:Bash]]'));
    expect(question).toContain('within 1 s');
    const id = requestIdIn(question);
    await gw.waitForLog((l) => l.msg === 'permission request expired; denied' && l.permission === id, 10_000, mark);
    // Claude got the deny and finished its turn; nobody was waiting for that answer any more.
    await gw.waitForLog((l) => l.msg === 'final reply arrived after its caller went away', 60_000, mark);

    const late = await ask(gw, 'ttl', answering('[[permission:Bash]]', question, `yes ${id}`));
    expect(late).toContain(`Permission request \`${id}\` expired without an answer and was denied`);
    expect(await ask(gw, 'ttl', user('next'))).toBe('echo: next');
  });
});

describe('--permissions deny', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--permissions', 'deny', '--permission-allow', '*'] });
  });
  afterAll(async () => {
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  it('denies every request without asking, ignoring the allow-list', async () => {
    expect(await ask(gw, 'deny', user('[[permission:Read]]'))).toBe('permission deny for Read');
    await gw.waitForLog((l) => l.msg === 'permission answered by policy' && l.tool === 'Read' && l.verdict === 'deny', 60_000);
  });
});

describe('--permissions allow-listed', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--permissions', 'allow-listed', '--permission-allow', 'mcp__*', '--permission-allow', 'Bash'] });
  });
  afterAll(async () => {
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  it.each([
    ['Bash', 'allow'],
    ['mcp__github__create_issue', 'allow'],
    ['BashOutput', 'deny'],
    ['Write', 'deny'],
  ])('%s -> %s', async (tool, behavior) => {
    expect(await ask(gw, 'listed', user(`[[permission:${tool}]]`))).toBe(`permission ${behavior} for ${tool}`);
  });
});
