/**
 * The reconnecting SSE client against a scripted global fetch, on fake timers: when it
 * reconnects, with which headers, and when it stops for good.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, type BackoffOptions } from '@synthesis-agent/protocol';
import type { EventSourceMessage } from 'eventsource-parser';
import { openSseStream, reconnectDelay, SseAuthError } from '../../packages/openclaw-plugin/src/reasoning/sse-stream.js';
import { captureLogs } from '../fixtures/dist/reasoning-backend/log-capture.js';

/** No jitter, so the schedule is exact: 100, 200, 400, 800, 1000, 1000 … */
const BACKOFF: BackoffOptions = { baseMs: 100, capMs: 1000, minJitter: 1 };

interface Call {
  at: number;
  headers: Record<string, string>;
}

function sse(text: string, status = 200, type = 'text/event-stream'): Response {
  return new Response(text, { status, headers: { 'content-type': type } });
}

/** Stubs fetch: each call takes the next scripted answer (a Response or an Error to throw). */
function scriptFetch(answers: (Response | Error)[]): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
    calls.push({ at: Date.now(), headers: init.headers as Record<string, string> });
    const answer = answers.shift() ?? new Error('connection refused');
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return calls;
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('reconnectDelay', () => {
  it('is the shared backoff without a server retry', () => {
    const jittered = { ...BACKOFF, minJitter: 0.5, random: () => 0.25 };
    for (const attempt of [0, 1, 5]) expect(reconnectDelay(attempt, undefined, jittered)).toBe(backoffDelay(attempt, jittered));
  });

  it('takes retry: as the base, doubling on failures in a row, capped by the larger of cap and retry', () => {
    expect(reconnectDelay(0, 250, BACKOFF)).toBe(250);
    expect(reconnectDelay(1, 250, BACKOFF)).toBe(500);
    expect(reconnectDelay(4, 250, BACKOFF)).toBe(1000);
    expect(reconnectDelay(0, 5000, BACKOFF)).toBe(5000);
    expect(reconnectDelay(3, 5000, BACKOFF)).toBe(5000);
  });
});

describe('openSseStream', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  function open(events: EventSourceMessage[] = []) {
    const logs = captureLogs();
    const stream = openSseStream({
      url: 'http://backend.test/stream',
      headers: { authorization: 'Bearer secret-token' },
      logger: logs.logger,
      onEvent: (e) => events.push(e),
      backoff: BACKOFF,
    });
    return { stream, logs };
  }

  it('backs off exponentially while connections fail, and resets after a healthy one', async () => {
    const calls = scriptFetch([new Error('refused'), new Error('refused'), sse('oops', 500), sse(': hi\n\n'), new Error('refused')]);
    const { stream } = open();
    await flush();
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(400);
    expect(calls).toHaveLength(4); // the healthy one: it sent a comment, then ended
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(5);
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 100, 300, 700, 800]);
    await stream.close();
  });

  it('honours retry: and sends Last-Event-ID, which an empty id clears', async () => {
    const events: EventSourceMessage[] = [];
    const calls = scriptFetch([
      sse('retry: 5000\n\nid: 7\nevent: reasoning_job\ndata: {"a":1}\n\n'),
      sse('data: no id keeps 7\n\n'),
      sse('id:\ndata: clears it\n\n'),
    ]);
    const { stream } = open(events);
    await flush();
    expect(calls[0]!.headers).toMatchObject({ authorization: 'Bearer secret-token', accept: 'text/event-stream' });
    expect(calls[0]!.headers['last-event-id']).toBeUndefined();
    await vi.advanceTimersByTimeAsync(4999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls[1]!.headers['last-event-id']).toBe('7');
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls[2]!.headers['last-event-id']).toBe('7');
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls[3]!.headers['last-event-id']).toBeUndefined();
    expect(events.map((e) => [e.id, e.event, e.data])).toEqual([
      ['7', 'reasoning_job', '{"a":1}'],
      [undefined, undefined, 'no id keeps 7'],
      ['', undefined, 'clears it'],
    ]);
    await stream.close();
  });

  it('treats a non-SSE answer as a failure to retry', async () => {
    const calls = scriptFetch([sse('{"ok":true}', 200, 'application/json'), new Response(null, { status: 404 })]);
    const { stream, logs } = open();
    await flush();
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(3);
    expect(logs.lines.filter((l) => l.msg === 'reasoning stream failed').map((l) => l.err)).toEqual([
      'stream answered HTTP 200 application/json',
      'stream answered HTTP 404 (no content-type)',
      'connection refused',
    ]);
    await stream.close();
  });

  it.each([401, 403])('stops for good on %i, without logging the token', async (status) => {
    const calls = scriptFetch([new Response('no', { status })]);
    const { stream, logs } = open();
    const stopped = await stream.stopped;
    expect(stopped).toBeInstanceOf(SseAuthError);
    expect(stopped?.status).toBe(status);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
    expect(logs.lines.some((l) => l.level === 50 && String(l.msg).includes(`HTTP ${status}`))).toBe(true);
    expect(logs.text()).not.toContain('secret-token');
    await stream.close();
  });

  it('close() ends a pending backoff at once', async () => {
    scriptFetch([new Error('refused')]);
    const { stream } = open();
    await flush();
    await stream.close();
    await expect(stream.stopped).resolves.toBeUndefined();
  });
});
