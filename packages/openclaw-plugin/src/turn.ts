/**
 * The session core's contract with its front doors (HTTP chat completions, webchannel, reasoning
 * jobs). A front door turns its own request into a TurnRequest, calls `SessionCore.runTurn`, and
 * renders chunks, the final text or a TurnError in its own protocol. Nothing here knows HTTP.
 */
import type { PermissionRequest } from '@synthesis-agent/protocol';

export type TurnErrorCode =
  | 'queue_full' // session busy and its queue is at --queue-depth
  | 'capacity' // --max-sessions live processes, none idle to evict
  | 'claude_start_failed' // process exited or stalled before it was ready
  | 'claude_blocked' // a screen that needs a person (login, bad key, terminal permission prompt) stopped a turn
  | 'claude_exited' // process died during the turn
  | 'bridge_disconnected' // plugin's WebSocket dropped during the turn
  | 'turn_timeout' // no final reply within --turn-timeout-ms
  | 'no_reply' // Claude ended its turn without using the reply tool
  | 'too_large' // the message cannot fit one bridge frame
  | 'shutting_down' // gateway is stopping
  | 'bad_request'; // the request itself cannot become a turn (bad workspace, …)

const STATUS: Record<TurnErrorCode, number> = {
  queue_full: 429,
  capacity: 429,
  claude_start_failed: 503,
  claude_blocked: 503,
  claude_exited: 502,
  bridge_disconnected: 502,
  turn_timeout: 504,
  no_reply: 502,
  too_large: 413,
  shutting_down: 503,
  bad_request: 400,
};

/** The refusal every turn gets once the gateway is stopping. */
export function shuttingDown(): TurnError {
  return new TurnError('shutting_down', 'the gateway is shutting down');
}

/** The plugin's bridge connection dropped while Claude was working on the turn. */
export function bridgeDropped(): TurnError {
  return new TurnError('bridge_disconnected', 'the Claude channel connection dropped during the turn');
}

export class TurnError extends Error {
  override name = 'TurnError';
  readonly status: number;
  constructor(
    readonly code: TurnErrorCode,
    message: string,
    /** Seconds a client should wait before retrying (429/503), sent as Retry-After. */
    readonly retryAfterSec?: number,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

/** A permission prompt relayed to the front door; resolve it with `answer`. */
export interface RelayedPermission extends Omit<PermissionRequest, 'type'> {
  answer(behavior: 'allow' | 'deny'): void;
}

export interface TurnRequest {
  sessionKey: string;
  /** Text delivered to Claude as the channel message. */
  content: string;
  /** Correlates logs, the inbound's message_id and the front door's response. */
  requestId: string;
  /** chat_id meta on the channel message. */
  chatId: string;
  /** Working directory for a session started by this turn (default: --workspace). */
  workspace?: string;
  /** Passed as --append-system-prompt when the session is (re)spawned (--system-prompt append). */
  systemPrompt?: string;
  /**
   * Earlier turns the client knows about, oldest first. Used only when the session starts fresh
   * with no Claude transcript (history bootstrap).
   */
  history?: { role: 'user' | 'assistant'; content: string }[];
  /** Aborted when the caller goes away. The turn still runs to its final reply (ordering). */
  signal?: AbortSignal;
  /** Progress chunks (`final: false`) as they arrive. */
  onChunk?: (text: string) => void;
  /** Called when Claude asks permission and --permissions is relay. */
  onPermissionRequest?: (request: RelayedPermission) => void;
}

export interface TurnResult {
  /** The whole answer: progress chunks joined in order, then the final reply. */
  text: string;
  /** The chunks as received, for front doors that render them. */
  chunks: string[];
  /**
   * The final reply alone, for front doors that already streamed the chunks (webchannel's
   * assistant_final). Optional only so cores written before it still type-check.
   */
  final?: string;
}

export type SessionState = 'starting' | 'ready' | 'busy' | 'stopped';

export interface SessionInfo {
  key: string;
  state: SessionState;
  claudeSessionId: string;
  pid?: number;
  workspace: string;
  queued: number;
  lastUsed: string;
  turns: number;
}

export interface SessionCore {
  runTurn(request: TurnRequest): Promise<TurnResult>;
  /** The error a turn for this session would be refused with right now (429s), if any. */
  admissionError?(request: Pick<TurnRequest, 'sessionKey' | 'content'>): TurnError | undefined;
  sessions(): SessionInfo[];
}
