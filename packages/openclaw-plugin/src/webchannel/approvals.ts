/**
 * Permission requests relayed to browsers and waiting for an approval_response, by the request_id
 * the approval_request carried. Only the client that started the turn, on the same session, can
 * answer; anyone else is told the id is unknown, as if it did not exist.
 */
import type { RelayedPermission } from '../turn.js';

interface Pending {
  answer: RelayedPermission['answer'];
  clientId: string;
  sessionKey: string;
  turnId: string;
}

export class PendingApprovals {
  private readonly pending = new Map<string, Pending>();

  add(requestId: string, entry: Pending): void {
    this.pending.set(requestId, entry);
  }

  /** Answers and forgets the request; false if there is none for this client and session. */
  answer(requestId: string, clientId: string, sessionKey: string, behavior: 'allow' | 'deny'): boolean {
    const entry = this.pending.get(requestId);
    if (!entry || entry.clientId !== clientId || entry.sessionKey !== sessionKey) return false;
    this.pending.delete(requestId);
    entry.answer(behavior);
    return true;
  }

  /** Forgets a finished turn's unanswered requests; the core has settled them by then. */
  dropTurn(turnId: string): void {
    for (const [id, entry] of this.pending) if (entry.turnId === turnId) this.pending.delete(id);
  }
}
