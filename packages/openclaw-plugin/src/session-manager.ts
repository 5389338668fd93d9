/**
 * The session core: finds or creates the session for a turn, keeps the number of live Claude
 * processes within --max-sessions (evicting the least recently used idle one), reaps idle
 * processes, routes bridge hellos to their session, and persists the session map for --resume.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { MAX_BRIDGE_FRAME_BYTES, bridgeError, type BridgeError, type Hello, type TurnEnd } from '@synthesis-agent/protocol';
import type { BridgeHandler, BridgePeer, BridgeRoutes } from './bridge-server.js';
import type { LaunchSettings } from './claude-launch.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { Session, type SessionConfig } from './session.js';
import type { PersistedSession, StateStore } from './state-store.js';
import { TurnError, shuttingDown, type SessionCore, type SessionInfo, type TurnRequest, type TurnResult } from './turn.js';

const SAVE_DELAY_MS = 50;

export interface SessionManagerOptions {
  config: SessionConfig & { maxSessions: number; idleTimeoutMs: number; workspace: string };
  launch: LaunchSettings;
  store: StateStore;
  metrics: Metrics;
  logger: Logger;
}

export class SessionManager implements SessionCore, BridgeRoutes {
  private readonly byKey = new Map<string, Session>();
  private readonly persisted: Map<string, PersistedSession>;
  private readonly reaper: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  /** The write in progress, and whether the map changed since it started. */
  private saving: Promise<void> | undefined;
  private unsaved = false;
  private closing = false;

  constructor(private readonly options: SessionManagerOptions) {
    this.persisted = options.store.load();
    const { idleTimeoutMs } = options.config;
    if (idleTimeoutMs > 0) {
      this.reaper = setInterval(() => this.reapIdle(), Math.min(60_000, Math.max(50, idleTimeoutMs / 4)));
      this.reaper.unref();
    }
  }

  runTurn(request: TurnRequest): Promise<TurnResult> {
    if (this.closing) return Promise.reject(shuttingDown());
    const tooLarge = oversizeError(request.content);
    if (tooLarge) return Promise.reject(tooLarge);
    let session: Session;
    try {
      session = this.sessionFor(request);
    } catch (err) {
      return Promise.reject(err);
    }
    return session.runTurn(request);
  }

  /** Starts a session's Claude without a turn and reports it once ready. */
  async startSession(key: string, workspace?: string): Promise<SessionInfo> {
    const session = this.sessionFor({ sessionKey: key, content: '', requestId: 'warm-up', chatId: key, ...(workspace ? { workspace } : {}) });
    await session.warmUp();
    return session.info();
  }

  /**
   * Why a turn would be refused right now (429 queue full or capacity), so a streaming front door
   * can answer with a real status before it commits to a 200 and an event stream. Checked again
   * when the turn runs; a race between the two ends as an error event instead.
   */
  admissionError(request: Pick<TurnRequest, 'sessionKey' | 'content'>): TurnError | undefined {
    const tooLarge = oversizeError(request.content);
    if (tooLarge) return tooLarge;
    const session = this.byKey.get(request.sessionKey);
    if (session?.hasProcess) return session.queueFullError();
    const live = [...this.byKey.values()].filter((s) => s.hasProcess && !s.isStopping);
    if (live.length < this.options.config.maxSessions || live.some((s) => s.isIdle)) return undefined;
    return this.capacityError();
  }

  private capacityError(): TurnError {
    return new TurnError('capacity', `all ${this.options.config.maxSessions} Claude sessions (--max-sessions) are busy; retry shortly`, 10);
  }

  sessions(): SessionInfo[] {
    return [...this.byKey.values()].map((s) => s.info());
  }

  /** Turns waiting behind busy sessions, for /healthz and metrics. */
  queueDepth(): number {
    let total = 0;
    for (const session of this.byKey.values()) total += session.queued;
    return total;
  }

  liveSessions(): number {
    let live = 0;
    for (const session of this.byKey.values()) if (session.hasProcess) live++;
    return live;
  }

  attach(hello: Hello, peer: BridgePeer): BridgeHandler | BridgeError {
    const session = this.byKey.get(hello.openclaw_session);
    if (!session) return bridgeError('unknown_session', `this gateway did not start a session "${hello.openclaw_session}"`);
    return session.attach(hello, peer);
  }

  turnEnded(message: TurnEnd): BridgeError | undefined {
    const session = this.byKey.get(message.openclaw_session);
    if (!session) return bridgeError('unknown_session', `this gateway did not start a session "${message.openclaw_session}"`);
    return session.turnEnded(message.token);
  }

  private sessionFor(request: TurnRequest): Session {
    const existing = this.byKey.get(request.sessionKey);
    if (existing) {
      if (request.workspace && path.resolve(request.workspace) !== existing.workspace) {
        // Claude keeps transcripts per working directory, so a session cannot move.
        this.options.logger.warn(
          { session: request.sessionKey, requested: request.workspace, workspace: existing.workspace },
          'session already runs in another workspace; keeping it',
        );
      }
      return existing;
    }
    const workspace = path.resolve(request.workspace ?? this.options.config.workspace);
    assertWorkspace(workspace);
    const saved = this.persisted.get(request.sessionKey);
    const state: PersistedSession =
      saved && saved.workspace === workspace
        ? saved
        : { claudeSessionId: randomUUID(), workspace, lastUsed: new Date().toISOString(), hasTranscript: false };
    const session = new Session(request.sessionKey, state, {
      config: this.options.config,
      launch: this.options.launch,
      metrics: this.options.metrics,
      logger: this.options.logger,
      reserveProcessSlot: (s) => this.reserveProcessSlot(s),
      changed: (s) => this.changed(s),
    });
    this.byKey.set(request.sessionKey, session);
    return session;
  }

  private reserveProcessSlot(starting: Session): void {
    // A process already told to stop is on its way out and frees its slot by itself. Picking it
    // again as the victim would let a second start go ahead without freeing another slot.
    const live = [...this.byKey.values()].filter((s) => s.hasProcess && !s.isStopping && s !== starting);
    if (live.length < this.options.config.maxSessions) return;
    const victim = live.filter((s) => s.isIdle).sort((a, b) => a.lastUsed.getTime() - b.lastUsed.getTime())[0];
    if (!victim) throw this.capacityError();
    this.options.logger.info({ session: victim.key, for: starting.key }, 'evicting least recently used idle session');
    void victim.restart('evicted');
  }

  private reapIdle(): void {
    const cutoff = Date.now() - this.options.config.idleTimeoutMs;
    for (const session of this.byKey.values()) {
      if (session.isIdle && session.lastUsed.getTime() < cutoff) {
        this.options.logger.info({ session: session.key }, 'reaping idle Claude process');
        void session.restart('idle');
      }
    }
  }

  private changed(session: Session): void {
    const { metrics } = this.options;
    metrics.liveSessions.set(this.liveSessions());
    metrics.queueDepth.set(this.queueDepth());
    if (session.hasTranscript || this.persisted.has(session.key)) {
      this.persisted.set(session.key, session.persisted());
      this.scheduleSave();
    }
  }

  /** Coalesces bursts of changes (many sessions finishing turns) into one write. */
  private scheduleSave(): void {
    this.saveTimer ??= setTimeout(() => void this.save(), SAVE_DELAY_MS);
  }

  /** One write at a time; what changes during a write is written by the next one. */
  private save(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.unsaved = true;
    this.saving ??= this.writeUntilSaved().finally(() => (this.saving = undefined));
    return this.saving;
  }

  private async writeUntilSaved(): Promise<void> {
    while (this.unsaved) {
      this.unsaved = false;
      try {
        await this.options.store.save(this.persisted);
      } catch (err) {
        this.options.logger.error({ err, file: this.options.store.file }, 'could not write the session map');
      }
    }
  }

  /** Fails every waiting and running turn and stops every Claude process. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.reaper) clearInterval(this.reaper);
    await Promise.all([...this.byKey.values()].map((s) => s.close()));
    await this.save();
  }
}

function assertWorkspace(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new TurnError('bad_request', `workspace ${dir} is not an existing directory`);
}

/**
 * A turn travels to Claude as one bridge frame (at most MAX_BRIDGE_FRAME_BYTES); room is kept for
 * the frame's envelope, JSON escaping and a history bootstrap. Refusing here gives the caller a
 * 413 instead of a dropped connection and a restarted Claude.
 */
export const MAX_TURN_BYTES = MAX_BRIDGE_FRAME_BYTES / 2;

function oversizeError(content: string): TurnError | undefined {
  const bytes = Buffer.byteLength(content);
  if (bytes <= MAX_TURN_BYTES) return undefined;
  return new TurnError('too_large', `the message is ${bytes} bytes; a turn may carry at most ${MAX_TURN_BYTES} bytes`);
}
