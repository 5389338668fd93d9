/**
 * A reconnecting Server-Sent Events client on global fetch + eventsource-parser. Browsers'
 * EventSource cannot send an Authorization header, so this is the same state machine by hand:
 * remember the last event id and send it as Last-Event-ID, take the server's `retry:` as the
 * reconnection delay, and back off exponentially with jitter while the server keeps failing.
 * 401/403 is final: a revoked relay token will not start working by asking again.
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '@synthesis-agent/protocol';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Logger } from '../logger.js';
import { sleep } from './sleep.js';

/** Bound on one event's buffered text, so a stream that never ends an event cannot eat memory. */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

export interface SseStreamOptions {
  url: string;
  /** Sent on every connection (the Authorization header lives here; never logged). */
  headers: Record<string, string>;
  logger: Logger;
  onEvent: (event: EventSourceMessage) => void;
  backoff?: BackoffOptions;
}

export class SseAuthError extends Error {
  override name = 'SseAuthError';
  constructor(readonly status: number) {
    super(`stream refused with HTTP ${status}: the relay token or integration id is wrong or revoked; not reconnecting`);
  }
}

export interface SseStream {
  /** Settles when the stream stops for good: undefined after close(), the error after 401/403. */
  readonly stopped: Promise<SseAuthError | undefined>;
  close(): Promise<void>;
}

/**
 * Delay before reconnect `attempt` (0-based count of failures in a row). A server `retry:` value
 * replaces the base delay; failures in a row still double it, up to the larger of the cap and the
 * server's own value, with the shared jitter.
 */
export function reconnectDelay(attempt: number, serverRetryMs: number | undefined, backoff: BackoffOptions): number {
  if (serverRetryMs === undefined) return backoffDelay(attempt, backoff);
  return backoffDelay(attempt, { ...backoff, baseMs: serverRetryMs, capMs: Math.max(backoff.capMs, serverRetryMs) });
}

export function openSseStream(options: SseStreamOptions): SseStream {
  const { url, logger } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const controller = new AbortController();
  let lastEventId = '';
  let serverRetryMs: number | undefined;
  /** Whether the current connection delivered anything: a healthy one resets the backoff. */
  let received = false;

  /** One connection, until the server ends it or it fails. */
  async function connectOnce(): Promise<void> {
    const headers: Record<string, string> = { ...options.headers, accept: 'text/event-stream', 'cache-control': 'no-cache' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const response = await fetch(url, { headers, signal: controller.signal });
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new SseAuthError(response.status);
    }
    const type = response.headers.get('content-type') ?? '';
    if (!response.ok || !response.body || !type.startsWith('text/event-stream')) {
      await response.body?.cancel();
      throw new Error(`stream answered HTTP ${response.status} ${type || '(no content-type)'}`);
    }
    logger.info({ url, lastEventId: lastEventId || undefined }, 'reasoning stream connected');
    const parser = createParser({
      maxBufferSize: MAX_EVENT_CHARS,
      onEvent(event) {
        // An empty id resets the last event id (WHATWG SSE); an event without one keeps it.
        if (event.id !== undefined) lastEventId = event.id;
        options.onEvent(event);
      },
      onRetry(ms) {
        serverRetryMs = ms;
      },
      onError(err) {
        logger.warn({ err: err.message, type: err.type }, 'malformed line on reasoning stream');
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      received = true;
      parser.feed(decoder.decode(chunk, { stream: true }));
    }
  }

  async function run(): Promise<SseAuthError | undefined> {
    let attempt = 0;
    while (!controller.signal.aborted) {
      received = false;
      try {
        await connectOnce();
        if (!controller.signal.aborted) logger.warn({ url }, 'reasoning stream ended');
      } catch (err) {
        if (err instanceof SseAuthError) {
          logger.error({ url, status: err.status }, err.message);
          return err;
        }
        if (controller.signal.aborted) break;
        logger.warn({ url, err: (err as Error).message }, 'reasoning stream failed');
      }
      if (received) attempt = 0;
      const delay = reconnectDelay(attempt++, serverRetryMs, backoff);
      logger.info({ delayMs: delay, attempt }, 'reconnecting reasoning stream');
      await sleep(delay, controller.signal);
    }
    return undefined;
  }

  const stopped = run();
  return {
    stopped,
    async close() {
      controller.abort();
      await stopped;
    },
  };
}
