/**
 * Result delivery against a scripted global fetch on fake timers: which answers are retried,
 * when, and when it gives up.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackoffOptions, ReasoningResult } from '@synthesis-agent/protocol';
import { backendEndpoints } from '../../packages/openclaw-plugin/src/reasoning/backend-client.js';
import { createResultPoster } from '../../packages/openclaw-plugin/src/reasoning/result-poster.js';
import { captureLogs } from '../fixtures/dist/reasoning-backend/log-capture.js';

const BACKOFF: BackoffOptions = { baseMs: 100, capMs: 1000, minJitter: 1 };

interface Call {
  at: number;
  url: string;
  init: RequestInit;
}

function scriptFetch(answers: (Response | Error)[]): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ at: Date.now(), url, init });
    const answer = answers.shift() ?? new Response(null, { status: 503 });
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return calls;
}

const status = (code: number, headers: Record<string, string> = {}) => new Response(null, { status: code, headers });

describe('result poster', () => {
  const endpoints = backendEndpoints(
    { reasoningUrl: 'http://backend.test/prefix/', reasoningCompletePath: '/api/v1/openclaw/integrations/{id}/jobs/{job_id}/complete' },
    'int 1',
    'relay-secret',
  );
  const result: ReasoningResult = {
    job_id: randomUUID(),
    status: 'completed',
    result: { summary: 'ok' },
    completed_at: new Date().toISOString(),
    provider_kind: 'openclaw',
    schema_version: 1,
    envelope_version: 1,
  };
  let logs: ReturnType<typeof captureLogs>;
  let post: ReturnType<typeof createResultPoster>;

  beforeEach(() => {
    vi.useFakeTimers();
    logs = captureLogs();
    post = createResultPoster({ endpoints, logger: logs.logger, backoff: BACKOFF });
  });
  afterEach(() => {
    expect(logs.text()).not.toContain('relay-secret');
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('posts the result as JSON with the relay token to the completion path under the base URL', async () => {
    const calls = scriptFetch([status(204)]);
    await expect(post(result, Date.now() + 10_000)).resolves.toBe('accepted');
    expect(calls[0]!.url).toBe(`http://backend.test/prefix/api/v1/openclaw/integrations/int%201/jobs/${result.job_id}/complete`);
    expect(calls[0]!.init.method).toBe('POST');
    expect(calls[0]!.init.headers).toEqual({ authorization: 'Bearer relay-secret', 'content-type': 'application/json' });
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual(result);
  });

  it('retries network errors, 5xx and 429 with backoff until accepted', async () => {
    const calls = scriptFetch([new Error('ECONNRESET'), status(503), status(429), status(200)]);
    const outcome = post(result, Date.now() + 10_000);
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    await expect(outcome).resolves.toBe('accepted');
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 100, 300, 700]);
  });

  it('honours Retry-After', async () => {
    const calls = scriptFetch([status(503, { 'retry-after': '2' }), status(204)]);
    const outcome = post(result, Date.now() + 10_000);
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(outcome).resolves.toBe('accepted');
  });

  it('does not retry a refusal', async () => {
    const calls = scriptFetch([new Response('bad body', { status: 400 })]);
    await expect(post(result, Date.now() + 10_000)).resolves.toBe('refused');
    expect(calls).toHaveLength(1);
    expect(logs.lines.find((l) => l.msg === 'backend refused reasoning result')).toMatchObject({ httpStatus: 400, body: 'bad body' });
  });

  it('gives up when the next try would be past the give-up time', async () => {
    const calls = scriptFetch([]);
    const outcome = post(result, Date.now() + 250);
    await vi.advanceTimersByTimeAsync(100);
    await expect(outcome).resolves.toBe('gave_up');
    expect(calls).toHaveLength(2);
  });

  it('makes one more attempt once stopped, then gives up', async () => {
    const calls = scriptFetch([]);
    const stop = new AbortController();
    const outcome = post(result, Date.now() + 60_000, stop.signal);
    await vi.advanceTimersByTimeAsync(150);
    expect(calls).toHaveLength(2);
    stop.abort();
    await expect(outcome).resolves.toBe('gave_up');
    expect(calls).toHaveLength(3);
  });
});
