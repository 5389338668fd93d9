/**
 * SseResponse on a real Node HTTP server: what a client reads, in order, and what happens when the
 * client is gone.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseResponse } from '../../packages/openclaw-plugin/src/sse.js';

let server: http.Server | undefined;
afterEach(
  () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

/** Serves one request with `handle`, returns the URL. */
async function serveOnce(handle: (sse: SseResponse) => Promise<void> | void): Promise<string> {
  server = http.createServer((_req, res) => void handle(new SseResponse(res)));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('SseResponse', () => {
  it('writes event-stream events in order, one data line per line of the payload', async () => {
    const url = await serveOnce(async (sse) => {
      await sse.send('{"a":1}');
      await sse.sendAll(['two\nlines', '[DONE]']);
      sse.end();
    });
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe('data: {"a":1}\n\ndata: two\ndata: lines\n\ndata: [DONE]\n\n');
  });

  it('aborts its signal when the client goes away, and then writes nothing', async () => {
    let aborted!: () => void;
    const gone = new Promise<void>((resolve) => (aborted = resolve));
    let sse!: SseResponse;
    const url = await serveOnce(async (s) => {
      sse = s;
      s.signal.addEventListener('abort', () => aborted());
      await s.send('first');
    });
    const controller = new AbortController();
    const res = await fetch(url, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await gone;
    expect(sse.signal.aborted).toBe(true);
    // Resolves at once: nothing waits on a client that cannot read.
    await expect(sse.send('after')).resolves.toBeUndefined();
  });
});
