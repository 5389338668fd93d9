/**
 * Posts host status and the capability profile to the backend every interval (first one at
 * once, so the backend sees the integration online as soon as the gateway starts). A missed beat
 * is not retried: the next one carries fresher numbers.
 */
import type { Heartbeat } from '@synthesis-agent/protocol';
import type { Logger } from '../logger.js';
import { postJson } from './backend-client.js';
import { sleep } from './sleep.js';

/** Longest a heartbeat POST may wait for an answer; a beat must not outlive its interval much. */
const HEARTBEAT_TIMEOUT_MS = 10_000;

export interface HeartbeatOptions {
  url: string;
  auth: Record<string, string>;
  intervalMs: number;
  logger: Logger;
  body: () => Promise<Heartbeat>;
}

export function startHeartbeat(options: HeartbeatOptions): { stop(): Promise<void> } {
  const { url, auth, intervalMs, logger } = options;
  const controller = new AbortController();

  async function run(): Promise<void> {
    // Logged when the state changes, not on every beat, so a long outage is two lines.
    let failing = false;
    while (!controller.signal.aborted) {
      let problem: string | undefined;
      try {
        const answer = await postJson(url, auth, await options.body(), Math.min(intervalMs, HEARTBEAT_TIMEOUT_MS), controller.signal);
        if (answer.status < 200 || answer.status >= 300) problem = `HTTP ${answer.status}`;
      } catch (err) {
        problem = (err as Error).message;
      }
      if (controller.signal.aborted) break;
      if (problem !== undefined && !failing) logger.warn({ problem }, 'reasoning heartbeat failing');
      if (problem === undefined && failing) logger.info('reasoning heartbeat recovered');
      failing = problem !== undefined;
      await sleep(intervalMs, controller.signal);
    }
  }

  const running = run();
  return {
    async stop() {
      controller.abort();
      await running;
    },
  };
}
