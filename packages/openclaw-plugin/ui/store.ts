/**
 * The conversation as the page shows it, built from client events. Entries are correlated by
 * request_id: chunks and the final answer of one turn land in one assistant entry, a tool_result
 * finds its tool_call (or, without request_id, the latest unresolved one, as the spec says), and an
 * approval remembers its answer.
 */
import type { ClientEvent } from './client.js';

export type Entry =
  | { kind: 'user'; requestId: string; content: string }
  | {
      kind: 'assistant';
      requestId: string | undefined;
      /** Progress chunks as they streamed in. */
      progress: string[];
      final: string | undefined;
      /** Boxes that could not be decrypted; shown as a count rather than dropped silently. */
      undecryptable: number;
      failure: string | undefined;
    }
  | {
      kind: 'tool';
      requestId: string | undefined;
      name: string;
      arguments: Record<string, unknown>;
      result: { ok: boolean; text: string } | undefined;
    }
  | { kind: 'approval'; requestId: string | undefined; action: string; reason: string | undefined; approved: boolean | undefined }
  | { kind: 'notice'; text: string; error: boolean };

type AssistantEntry = Extract<Entry, { kind: 'assistant' }>;

export class Conversation {
  entries: Entry[] = [];

  addUser(requestId: string, content: string): void {
    this.entries.push({ kind: 'user', requestId, content });
  }

  answerApproval(requestId: string, approved: boolean): void {
    const entry = this.entries.find((e) => e.kind === 'approval' && e.requestId === requestId);
    if (entry?.kind === 'approval') entry.approved = approved;
  }

  /** Applies one client event; returns false for events that change nothing shown. */
  apply(event: ClientEvent): boolean {
    switch (event.kind) {
      case 'assistant': {
        const entry = this.assistant(event.requestId);
        if (event.undecryptable) entry.undecryptable += 1;
        else if (event.final) entry.final = event.content;
        else entry.progress.push(event.content);
        return true;
      }
      case 'tool_call':
        this.entries.push({ kind: 'tool', requestId: event.requestId, name: event.name, arguments: event.arguments, result: undefined });
        return true;
      case 'tool_result': {
        const open = this.entries.filter((e): e is Extract<Entry, { kind: 'tool' }> => e.kind === 'tool' && !e.result);
        const call = open.find((e) => event.requestId !== undefined && e.requestId === event.requestId) ?? open.at(-1);
        if (!call) return false;
        call.result = { ok: event.ok, text: event.ok ? stringify(event.result) : (event.error ?? 'failed') };
        return true;
      }
      case 'approval_request':
        this.entries.push({ kind: 'approval', requestId: event.requestId, action: event.action, reason: event.reason, approved: undefined });
        return true;
      case 'error': {
        const text = event.code ? `${event.message} (${event.code})` : event.message;
        // A turn's failure shows in that turn's answer; anything else as a notice.
        const ofTurn = this.entries.some((e) => (e.kind === 'user' || e.kind === 'assistant') && e.requestId === event.requestId);
        if (event.requestId !== undefined && ofTurn) this.assistant(event.requestId).failure = text;
        else this.entries.push({ kind: 'notice', text, error: true });
        return true;
      }
      case 'unauthorized':
        // The spec resets the session store: the conversation belonged to the old pairing.
        this.entries = [{ kind: 'notice', text: 'Not authorized any more: pair again.', error: true }];
        return true;
      case 'paired':
        this.entries.push({ kind: 'notice', text: event.e2e ? 'Paired, end-to-end encrypted.' : 'Paired.', error: false });
        return true;
      default:
        return false;
    }
  }

  private assistant(requestId: string | undefined): AssistantEntry {
    const existing = this.entries.find((e): e is AssistantEntry => e.kind === 'assistant' && e.requestId === requestId && requestId !== undefined);
    if (existing) return existing;
    const entry: AssistantEntry = { kind: 'assistant', requestId, progress: [], final: undefined, undecryptable: 0, failure: undefined };
    this.entries.push(entry);
    return entry;
  }
}

function stringify(value: unknown): string {
  if (value === undefined) return 'done';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
