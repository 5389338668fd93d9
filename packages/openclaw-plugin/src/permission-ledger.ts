/**
 * A session's permission requests: the ones waiting for the user (each with its expiry timer),
 * and what became of recent ones, so a late `yes <id>` gets told what happened instead of silence.
 */
import type { PermissionOutcome, RelayedRequest } from './permission-policy.js';

/** How many settled request ids a session remembers for late answers. */
const SETTLED_KEPT = 64;

export interface PendingPermission {
  request: RelayedRequest;
  expiresAt: number;
}

export class PermissionLedger {
  private readonly pending = new Map<string, PendingPermission & { timer: NodeJS.Timeout }>();
  private readonly settled = new Map<string, PermissionOutcome>();

  get size(): number {
    return this.pending.size;
  }

  /** The oldest request still waiting, if any. */
  first(): PendingPermission | undefined {
    return this.pending.values().next().value;
  }

  ids(): string[] {
    return [...this.pending.keys()];
  }

  /** What became of a request that is no longer pending. */
  outcome(requestId: string): PermissionOutcome | undefined {
    return this.settled.get(requestId);
  }

  /** Waits for an answer for `ttlMs`; then settles the request as expired and calls `onExpire`. */
  hold(request: RelayedRequest, ttlMs: number, onExpire: () => void): void {
    const timer = setTimeout(() => {
      if (!this.pending.delete(request.request_id)) return;
      this.settle(request.request_id, 'expired');
      onExpire();
    }, ttlMs);
    this.pending.set(request.request_id, { request, timer, expiresAt: Date.now() + ttlMs });
  }

  /** Takes a pending request out as answered; false when it is not pending (unknown, expired, …). */
  answer(requestId: string): boolean {
    const entry = this.pending.get(requestId);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.pending.delete(requestId);
    this.settle(requestId, 'answered');
    return true;
  }

  /** Settles every pending request as abandoned (its turn is over), calling `each` with its id. */
  abandonAll(each: (requestId: string) => void): void {
    for (const [requestId, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.settle(requestId, 'abandoned');
      each(requestId);
    }
    this.pending.clear();
  }

  private settle(requestId: string, outcome: PermissionOutcome): void {
    this.settled.set(requestId, outcome);
    if (this.settled.size > SETTLED_KEPT) this.settled.delete(this.settled.keys().next().value!);
  }
}
