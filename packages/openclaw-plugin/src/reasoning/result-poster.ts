/**
 * Delivers job results to the completion endpoint. Transient failures (network, timeouts, 408,
 * 425, 429, 5xx) are retried with the shared backoff until the caller's give-up time; any other
 * answer is final. A result is the only way the backend learns how a job ended, so every outcome
 * is logged, but never the result itself (it may be the plaintext of a BYO job).
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions, type ReasoningResult } from '@synthesis-agent/protocol';
import type { Logger } from '../logger.js';
import { postJson, type BackendEndpoints } from './backend-client.js';
import { sleep } from './sleep.js';

/** Longest one POST may wait for an answer before it counts as a transient failure. */
const POST_TIMEOUT_MS = 10_000;

export type PostOutcome = 'accepted' | 'refused' | 'gave_up';

export interface ResultPosterOptions {
  endpoints: BackendEndpoints;
  logger: Logger;
  backoff?: BackoffOptions;
}

function isTransient(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Returns `postResult(result, giveUpAt, stop)`: delivers until accepted, refused or `giveUpAt`
 * (epoch ms). Once `stop` aborts, the attempt under way or the next one is the last, so shutdown
 * waits for at most one more POST per result.
 */
export type PostResult = (result: ReasoningResult, giveUpAt: number, stop?: AbortSignal) => Promise<PostOutcome>;

export function createResultPoster(options: ResultPosterOptions): PostResult {
  const { endpoints, logger } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;

  return async function postResult(result, giveUpAt, stop) {
    const log = logger.child({ job: result.job_id, status: result.status });
    const url = endpoints.complete(result.job_id);
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const answer = await postJson(url, endpoints.auth, result, Math.max(1, Math.min(POST_TIMEOUT_MS, giveUpAt - Date.now())));
        if (answer.status >= 200 && answer.status < 300) {
          log.info({ attempts: attempt + 1 }, 'reasoning result delivered');
          return 'accepted';
        }
        if (!isTransient(answer.status)) {
          log.error({ httpStatus: answer.status, body: answer.bodyStart }, 'backend refused reasoning result');
          return 'refused';
        }
        retryAfterMs = answer.retryAfterMs;
        log.warn({ httpStatus: answer.status, attempt }, 'reasoning result not accepted yet');
      } catch (err) {
        log.warn({ err: (err as Error).message, attempt }, 'reasoning result POST failed');
      }
      const delay = Math.max(backoffDelay(attempt, backoff), retryAfterMs ?? 0);
      if (stop?.aborted || Date.now() + delay >= giveUpAt) {
        log.error({ attempts: attempt + 1 }, stop?.aborted ? 'gave up delivering reasoning result at shutdown' : 'gave up delivering reasoning result at its deadline');
        return 'gave_up';
      }
      await sleep(delay, stop);
    }
  };
}
