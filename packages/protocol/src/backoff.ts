/**
 * Exponential backoff with jitter, shared by every reconnecting client (claude-plugin bridge,
 * reasoning-job stream). Jitter keeps many clients that lost the same server from returning in
 * lockstep.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Lowest fraction of the computed delay that jitter may pick (0.5 means 50-100 %). */
  minJitter: number;
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 30_000, minJitter: 0.5 };

/** Delay before reconnect attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const random = options.random ?? Math.random;
  const exp = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  const fraction = options.minJitter + (1 - options.minJitter) * random();
  return Math.round(exp * fraction);
}
