import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Heartbeat } from '@synthesis-agent/protocol';
import { startHeartbeat } from '../../packages/openclaw-plugin/src/reasoning/heartbeat.js';
import { captureLogs } from '../fixtures/dist/reasoning-backend/log-capture.js';

describe('heartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('beats at once and then every interval, logging only when it starts and stops failing', async () => {
    const answers: (Response | Error)[] = [new Response(null, { status: 204 }), new Error('ECONNREFUSED'), new Response(null, { status: 502 }), new Response(null, { status: 200 })];
    const calls: { at: number; body: unknown }[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      calls.push({ at: Date.now(), body: JSON.parse(init.body as string) });
      const answer = answers.shift() ?? new Response(null, { status: 204 });
      if (answer instanceof Error) throw answer;
      return answer;
    });
    const logs = captureLogs();
    let beat = 0;
    const heartbeat = startHeartbeat({
      url: 'http://backend.test/heartbeat',
      auth: { authorization: 'Bearer t' },
      intervalMs: 1000,
      logger: logs.logger,
      body: async () => ({ beat: ++beat }) as unknown as Heartbeat,
    });
    await vi.advanceTimersByTimeAsync(3000);
    await heartbeat.stop();
    expect(calls.map((c) => [c.at - calls[0]!.at, c.body])).toEqual([
      [0, { beat: 1 }],
      [1000, { beat: 2 }],
      [2000, { beat: 3 }],
      [3000, { beat: 4 }],
    ]);
    expect(logs.lines.map((l) => [l.msg, l.problem])).toEqual([
      ['reasoning heartbeat failing', 'ECONNREFUSED'],
      ['reasoning heartbeat recovered', undefined],
    ]);
  });
});
