/**
 * A Server-Sent Events response written straight onto Node's ServerResponse. Hono's streamSSE
 * pipes through a web TransformStream and node-server's reader loop: several promise hops and
 * copies per event on every turn's way to the client (docs/performance.md). Here an event is one
 * write(), backpressure is Node's own ('drain'), and a client that goes away aborts `signal`.
 */
import type { ServerResponse } from 'node:http';

export class SseResponse {
  private readonly aborter = new AbortController();
  /** Aborted when the client goes away before the stream ended. */
  readonly signal: AbortSignal = this.aborter.signal;

  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.once('close', () => {
      if (!res.writableFinished) this.aborter.abort();
    });
  }

  /** Writes one `data:` event; resolves once the socket takes more (or at once, if the client left). */
  send(data: string): Promise<void> {
    return this.sendAll([data]);
  }

  /** Writes events in one go (one syscall, one packet): the end of a turn is known all at once. */
  sendAll(events: string[]): Promise<void> {
    if (this.signal.aborted || this.res.writableEnded) return Promise.resolve();
    this.res.cork();
    for (const data of events) this.res.write(format(data));
    this.res.uncork();
    if (!this.res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.res.once('drain', done);
      this.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** A heartbeat keeps an idle stream alive; a client that is not reading needs none piled up. */
  heartbeat(data: string): void {
    if (!this.res.writableNeedDrain) void this.send(data);
  }

  end(): void {
    if (!this.signal.aborted) this.res.end();
  }
}

function format(data: string): string {
  return `${data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}
