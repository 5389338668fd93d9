/**
 * One conversation: its Claude process, its plugin connection, and its turns. Claude Code treats
 * a channel message that arrives mid-turn as a side note, not a turn (claude-code-facts.md), so a
 * session delivers exactly one inbound at a time and holds the rest in a bounded FIFO until the
 * previous turn's final reply.
 */
import { randomUUID } from 'node:crypto';
import { bridgeError, type BridgeError, type Hello, type PermissionRequest } from '@synthesis-agent/protocol';
import type { BridgeHandler, BridgePeer } from './bridge-server.js';
import { prepareLaunch, type LaunchSettings, type PreparedLaunch } from './claude-launch.js';
import type { GatewayConfig } from './config.js';
import { deferred, withTimeout, type Deferred } from './deferred.js';
import { bootstrapContent } from './history-bootstrap.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import {
  askedFor,
  parsePermissionAnswer,
  policyVerdict,
  relayText,
  stillWaitingText,
  unanswerableText,
  type Behavior,
} from './permission-policy.js';
import { PermissionLedger } from './permission-ledger.js';
import type { ScreenMatch } from './claude-screens.js';
import { ClaudeProcess } from './process-manager.js';
import { safeEqual } from './safe-equal.js';
import type { PersistedSession } from './state-store.js';
import { TurnError, bridgeDropped, shuttingDown, type SessionInfo, type SessionState, type TurnRequest, type TurnResult } from './turn.js';

/** How long a plugin that dropped while idle gets to reconnect before its Claude is restarted. */
const RECONNECT_GRACE_MS = 3000;
/** How long a dropped bridge waits for the Claude process exit that usually explains it. */
const EXIT_AFTER_DROP_MS = 1000;
/**
 * How long the next turn waits for a Claude whose Stop hook has not been heard from yet (hooks
 * disabled by policy, say) to finish its turn after the final reply. Once a process's hook has
 * reported, the wait is bounded by --turn-timeout-ms instead.
 */
const UNCONFIRMED_SETTLE_MS = 5000;
/**
 * Once a process's hook has reported, a missing turn end after a final reply means Claude is
 * still working (or the hook's report was lost): after this long, restart rather than wait on.
 */
const CONFIRMED_SETTLE_MS = 60_000;
/** Interval of the "still starting" progress line while a Claude session starts. */
const START_PROGRESS_MS = 3000;
/** How long a terminal permission prompt may wait for its relayed request before it is a stall. */
const PERMISSION_RELAY_GRACE_MS = 2000;
/** Answered, expired or abandoned permission ids remembered so a late `yes <id>` is told why. */
const LATE_REPLY_HEADER = '[Reply to an earlier message whose request was cancelled]';
const CURRENT_REPLY_HEADER = '[Reply to this message]';

export type SessionConfig = Pick<
  GatewayConfig,
  | 'startTimeoutMs'
  | 'turnTimeoutMs'
  | 'queueDepth'
  | 'historyBootstrap'
  | 'historyMaxChars'
  | 'deliverLateReplies'
  | 'systemPrompt'
  | 'permissions'
  | 'permissionAllow'
  | 'permissionTtlMs'
>;

export interface SessionDeps {
  config: SessionConfig;
  launch: LaunchSettings;
  metrics: Metrics;
  logger: Logger;
  /** Makes room for one more live process (evicting an idle one) or throws TurnError('capacity'). */
  reserveProcessSlot(session: Session): void;
  /** Persist and refresh gauges after a change worth remembering. */
  changed(session: Session): void;
}

interface Job {
  request: TurnRequest;
  resolve(result: TurnResult): void;
  reject(error: Error): void;
  log: Logger;
}

interface ActiveTurn {
  /** The caller waiting for this Claude turn; replaced when a permission answer takes it over. */
  job: Job | undefined;
  chunks: string[];
  final: Deferred<string>;
  startedAt: number;
  /** Permission requests Claude relayed during this turn (answered by policy or not). */
  permissionRequests: number;
}

export class Session {
  claudeSessionId: string;
  hasTranscript: boolean;
  lastUsed: Date;
  turns = 0;
  readonly workspace: string;

  private proc: ClaudeProcess | undefined;
  private prepared: PreparedLaunch | undefined;
  private peer: BridgePeer | undefined;
  private pluginReady = false;
  private ready = deferred<void>();
  /** Set from a final reply until Claude's Stop hook says the turn is really over. */
  private settling: Deferred<void> | undefined;
  private hookSeen = false;
  private readonly queue: Job[] = [];
  private running: Job | undefined;
  private active: ActiveTurn | undefined;
  private readonly lateReplies: string[] = [];
  private readonly permissions = new PermissionLedger();
  private systemPrompt: string | undefined;
  private closed = false;
  private readonly log: Logger;

  constructor(
    readonly key: string,
    persisted: PersistedSession,
    private readonly deps: SessionDeps,
  ) {
    this.claudeSessionId = persisted.claudeSessionId;
    this.hasTranscript = persisted.hasTranscript;
    this.workspace = persisted.workspace;
    this.lastUsed = new Date(persisted.lastUsed);
    this.log = deps.logger.child({ session: key });
  }

  get hasProcess(): boolean {
    return this.proc !== undefined;
  }

  /** Idle: a live process with no turn running or waiting, so evicting it loses nothing. */
  get isIdle(): boolean {
    return this.hasProcess && !this.isStopping && !this.running && this.queue.length === 0 && this.permissions.size === 0;
  }

  /** The process was told to stop and is on its way out; it no longer holds a --max-sessions slot. */
  get isStopping(): boolean {
    return this.proc !== undefined && this.stopping.has(this.proc);
  }

  get queued(): number {
    return this.queue.length;
  }

  get state(): SessionState {
    if (!this.proc) return 'stopped';
    if (this.running) return 'busy';
    return this.pluginReady ? 'ready' : 'starting';
  }

  info(): SessionInfo {
    return {
      key: this.key,
      state: this.state,
      claudeSessionId: this.claudeSessionId,
      ...(this.proc ? { pid: this.proc.pid } : {}),
      workspace: this.workspace,
      queued: this.queue.length,
      lastUsed: this.lastUsed.toISOString(),
      turns: this.turns,
    };
  }

  persisted(): PersistedSession {
    return {
      claudeSessionId: this.claudeSessionId,
      workspace: this.workspace,
      lastUsed: this.lastUsed.toISOString(),
      hasTranscript: this.hasTranscript,
    };
  }

  /** The 429 a new turn would get now because this session's queue is full, if any. */
  queueFullError(): TurnError | undefined {
    if (this.running === undefined || this.queue.length < this.deps.config.queueDepth) return undefined;
    return new TurnError('queue_full', `session ${this.key} is busy and ${this.queue.length} turn(s) already wait; retry later`, 5);
  }

  runTurn(request: TurnRequest): Promise<TurnResult> {
    if (this.closed) return Promise.reject(shuttingDown());
    const answer = this.permissionAnswer(request);
    if (answer) return this.answerPermissionMessage(answer.requestId, answer.behavior, request);
    const waiting = this.active && !this.active.job ? this.permissions.first() : undefined;
    // Claude's turn is blocked on a question only this chat can answer, so a new turn could not
    // start before the question expires: remind the user instead of stalling the request.
    if (waiting) return textResult(stillWaitingText(waiting.request, waiting.expiresAt - Date.now()));

    const full = this.queueFullError();
    if (full) return Promise.reject(full);
    if (this.deps.config.systemPrompt === 'append' && request.systemPrompt !== undefined) {
      // Claude Code takes the system prompt only at launch; a change applies at the next respawn.
      this.systemPrompt = request.systemPrompt;
    }
    return new Promise<TurnResult>((resolve, reject) => {
      const job: Job = { request, resolve, reject, log: this.log.child({ request: request.requestId }) };
      this.queue.push(job);
      request.signal?.addEventListener('abort', () => this.dropQueued(job), { once: true });
      this.deps.changed(this);
      this.pump();
    });
  }

  /** A caller that left before its turn was delivered: its message is never sent to Claude. */
  private dropQueued(job: Job): void {
    const index = this.queue.indexOf(job);
    if (index < 0) return;
    this.queue.splice(index, 1);
    job.log.info('caller went away before its turn was delivered; dropped from the queue');
    this.deps.metrics.turns.inc({ outcome: 'aborted', code: 'client_gone' });
    job.reject(new TurnError('bad_request', 'request aborted by the client'));
    this.deps.changed(this);
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = job;
    this.deps.changed(this);
    this.execute(job)
      .then(job.resolve, (err: Error) => {
        const code = err instanceof TurnError ? err.code : 'internal';
        this.deps.metrics.turns.inc({ outcome: 'error', code });
        job.log.warn({ code, err: err.message }, 'turn failed');
        job.reject(err);
      })
      .finally(() => {
        this.running = undefined;
        this.lastUsed = new Date();
        this.deps.changed(this);
        this.pump();
      });
  }

  private async execute(job: Job): Promise<TurnResult> {
    await this.waitSettled(job);
    const fresh = await this.ensureReady(job.log);
    const { request } = job;
    let content = request.content;
    if (fresh && this.deps.config.historyBootstrap === 'on' && request.history?.length) {
      const bootstrap = bootstrapContent(request.history, request.content, this.deps.config.historyMaxChars);
      content = bootstrap.content;
      job.log.info({ replayed: bootstrap.replayed, omitted: bootstrap.omitted }, 'fresh Claude session: replaying earlier turns');
    }

    const active: ActiveTurn = { job, chunks: [], final: deferred<string>(), startedAt: performance.now(), permissionRequests: 0 };
    this.active = active;
    this.peer!.send({
      type: 'inbound',
      content,
      meta: { chat_id: request.chatId, message_id: request.requestId, ts: new Date().toISOString() },
    });
    this.turns++;
    if (!this.hasTranscript) {
      this.hasTranscript = true;
      this.deps.changed(this);
    }
    job.log.debug('turn delivered to Claude');

    const timer = setTimeout(() => {
      active.final.reject(new TurnError('turn_timeout', `no final reply from Claude within ${this.deps.config.turnTimeoutMs} ms`));
      // A wedged Claude would block this session's queue forever; resume keeps the conversation.
      void this.restart('turn_timeout');
    }, this.deps.config.turnTimeoutMs);
    try {
      const final = await active.final.promise;
      this.deps.metrics.turnSeconds.observe((performance.now() - active.startedAt) / 1000);
      return this.finish(active, final);
    } catch (err) {
      // A caller that took the turn over with a permission answer is waiting too.
      if (active.job && active.job !== job) active.job.reject(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
      this.active = undefined;
      this.abandonPermissions();
    }
  }

  /** Routes the turn's answer to whoever waits for it now, or keeps/drops it as a late reply. */
  private finish(active: ActiveTurn, final: string): TurnResult {
    const chunks = [...active.chunks, final].filter((c) => c !== '');
    const text = chunks.join('\n\n');
    const caller = active.job;
    if (!caller || caller.request.signal?.aborted) {
      const action = this.deps.config.deliverLateReplies ? 'kept' : 'dropped';
      this.deps.metrics.turns.inc({ outcome: 'late', code: action });
      this.deps.metrics.lateReplies.inc({ action });
      this.log.info({ action, chars: text.length }, 'final reply arrived after its caller went away');
      if (this.deps.config.deliverLateReplies) this.lateReplies.push(text);
      return { text, chunks, final };
    }
    this.deps.metrics.turns.inc({ outcome: 'ok', code: '' });
    const late = this.lateReplies.splice(0).join('\n\n');
    const marked = (body: string) => `${LATE_REPLY_HEADER}\n${late}\n\n${CURRENT_REPLY_HEADER}\n${body}`;
    // `final` carries the mark too: live mode has already streamed the chunks and sends only it.
    const result = late ? { text: marked(text), chunks, final: marked(final) } : { text, chunks, final };
    // The caller may be one that took the turn over after a permission prompt, not this job.
    caller.resolve(result);
    return result;
  }

  /**
   * Starts this session's Claude (if it is not running) without sending a turn: `doctor` uses it
   * to prove a session can start and reach the bridge.
   */
  async warmUp(): Promise<void> {
    if (this.closed) throw shuttingDown();
    await this.ensureReady(this.log);
  }

  /** Holds the next inbound until Claude has finished the previous turn (see TurnEndSchema). */
  private async waitSettled(job: Job): Promise<void> {
    const settling = this.settling;
    if (!settling) return;
    const ms = this.hookSeen ? Math.min(this.deps.config.turnTimeoutMs, CONFIRMED_SETTLE_MS) : UNCONFIRMED_SETTLE_MS;
    try {
      await withTimeout(settling.promise, ms, () => new Error('settle timeout'));
    } catch {
      if (this.hookSeen) {
        // Its hook works, yet the turn never ended: Claude is still busy after replying. A message
        // now would be a side note; a restart (resume keeps the conversation) gives a clean turn.
        job.log.warn({ waitedMs: ms }, 'Claude replied but never ended its turn; restarting it');
        await this.restart('turn_timeout');
      } else {
        job.log.warn({ waitedMs: ms }, 'Claude did not report the end of its previous turn (no Stop hook heard); delivering anyway');
      }
    } finally {
      if (this.settling === settling) this.settling = undefined;
    }
  }

  /** The Stop hook of this session's Claude reports the end of a turn. */
  turnEnded(token: string | undefined): BridgeError | undefined {
    const expected = this.prepared?.token;
    if (!expected || !token || !safeEqual(token, expected)) {
      return bridgeError('unauthorized', 'turn_end token does not match the process this gateway spawned');
    }
    this.hookSeen = true;
    if (this.settling) {
      this.settling.resolve();
      return undefined;
    }
    const active = this.active;
    if (active && !active.final.settled) {
      // Claude finished without a final reply; say so now rather than at --turn-timeout-ms.
      if (active.chunks.length > 0) active.final.resolve('');
      // Without its channel Claude could not reply at all: that is the cause worth naming.
      else if (!this.peer) active.final.reject(bridgeDropped());
      else active.final.reject(new TurnError('no_reply', 'Claude ended its turn without sending a reply'));
    }
    return undefined;
  }

  /**
   * Makes sure a live, ready Claude serves this session. Returns true when the process was
   * started fresh (new Claude transcript), which is when history bootstrap applies.
   */
  private async ensureReady(log: Logger): Promise<boolean> {
    // A process being stopped (turn timeout, eviction, dropped bridge) must not get this turn:
    // its plugin may still look connected for a moment.
    if (this.proc && this.isStopping) await this.proc.exited;
    if (this.proc && this.pluginReady && this.peer) return false;
    if (this.proc) {
      try {
        await withTimeout(this.ready.promise, RECONNECT_GRACE_MS, () => new Error('plugin did not reconnect'));
        return false;
      } catch {
        log.warn('claude-plugin did not reconnect; restarting Claude');
        await this.restart('plugin_lost');
      }
    }
    return this.start(log);
  }

  private async start(log: Logger): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const resume = this.hasTranscript;
      this.deps.reserveProcessSlot(this);
      this.spawn(resume);
      log.info({ resume, claudeSession: this.claudeSessionId }, 'starting Claude session');
      const startedAt = performance.now();
      // A cold start takes seconds; say what the terminal shows meanwhile so a stall is visible.
      const progress = setInterval(() => {
        log.info(
          { elapsedMs: Math.round(performance.now() - startedAt), screen: this.proc?.lastScreenLines(1) },
          'Claude session still starting',
        );
      }, START_PROGRESS_MS);
      try {
        await withTimeout(this.ready.promise, this.deps.config.startTimeoutMs, () =>
          this.startError(this.proc, `Claude did not become ready within ${this.deps.config.startTimeoutMs} ms`),
        );
        log.info({ pid: this.proc?.pid, startMs: Math.round(performance.now() - startedAt) }, 'Claude session ready');
        return !resume;
      } catch (err) {
        await this.stopProcess();
        // The error quotes Claude's last screen lines, where the CLI prints why it quit.
        if (resume && attempt === 0 && /No conversation found/i.test((err as Error).message)) {
          // Claude has no transcript under this id (e.g. killed before its first turn): start over.
          log.warn({ claudeSession: this.claudeSessionId }, 'resume failed (no conversation found); starting a fresh Claude session');
          this.claudeSessionId = randomUUID();
          this.hasTranscript = false;
          this.deps.changed(this);
          continue;
        }
        throw err;
      } finally {
        clearInterval(progress);
      }
    }
  }

  private spawn(resume: boolean): void {
    this.ready = deferred<void>();
    this.pluginReady = false;
    this.hookSeen = false;
    this.peer = undefined;
    const prepared = prepareLaunch(
      {
        sessionKey: this.key,
        claudeSessionId: this.claudeSessionId,
        resume,
        workspace: this.workspace,
        systemPrompt: this.systemPrompt,
      },
      this.deps.launch,
    );
    const proc: ClaudeProcess = new ClaudeProcess(
      prepared.launch,
      {
        onBlocked: (match) => this.onBlocked(proc, match),
        onExit: (exit) => this.onExit(proc, exit.exitCode, exit.signal),
      },
      this.log,
    );
    this.proc = proc;
    this.prepared = prepared;
    this.deps.metrics.spawns.inc();
    this.deps.changed(this);
  }

  /** A screen that needs a person: fail whoever waits (start-up or the running turn) now, not at a timeout. */
  private onBlocked(proc: ClaudeProcess, match: ScreenMatch): void {
    if (proc !== this.proc) return;
    const what = `Claude Code is stuck on its ${match.kind.replace(/_/g, ' ')} screen, which needs a person. Fix: ${match.fix ?? 'answer it once in a terminal'}.`;
    if (!this.ready.settled) {
      this.ready.reject(this.startError(proc, what));
      return;
    }
    const active = this.active;
    if (!active || active.final.settled) return;
    const fail = () => {
      if (active.final.settled || proc !== this.proc) return;
      active.final.reject(new TurnError('claude_blocked', `${what}\nLast screen lines:\n${proc.lastScreenLines()}`, 10));
      // Claude is parked on that screen mid-turn; a restart (with resume) is the way out.
      void this.restart('blocked');
    };
    if (match.kind !== 'permission_prompt') return fail();
    // With the channel permission relay on, Claude shows its terminal prompt AND relays the
    // request, and the prompt stays up until the verdict is processed (it may even be seen only
    // after the user answered). It is a stall only if it is still there after a grace period
    // with no relayed request arriving or waiting.
    const relayedBefore = active.permissionRequests;
    setTimeout(() => {
      const relayed = active.permissionRequests !== relayedBefore || this.permissions.size > 0;
      if (!relayed && proc.showing('permission_prompt')) fail();
    }, PERMISSION_RELAY_GRACE_MS).unref();
  }

  private startError(proc: ClaudeProcess | undefined, reason: string): TurnError {
    const screen = proc?.lastScreenLines() ?? '';
    return new TurnError('claude_start_failed', `${reason}${screen ? `\nLast screen lines:\n${screen}` : ''}`, 10);
  }

  private onExit(proc: ClaudeProcess, exitCode: number, signal: number | undefined): void {
    if (proc !== this.proc) return;
    const expected = this.stopping.has(proc);
    this.proc = undefined;
    this.prepared?.cleanup();
    this.prepared = undefined;
    if (!expected) {
      this.deps.metrics.crashes.inc();
      this.log.warn({ pid: proc.pid, exitCode, signal }, 'Claude process exited');
    }
    const how = `Claude exited (code ${exitCode}${signal ? `, signal ${signal}` : ''})`;
    if (!this.ready.settled) this.ready.reject(this.startError(proc, `${how} before it was ready`));
    // A dead process has no turn left to finish.
    this.settling?.resolve();
    this.settling = undefined;
    this.active?.final.reject(new TurnError('claude_exited', `${how} during the turn; the next message starts it again`));
    this.abandonPermissions();
    this.deps.changed(this);
  }

  private readonly stopping = new Set<ClaudeProcess>();

  /** Stops the process (if any) and waits for it; the session itself lives on for --resume. */
  async stopProcess(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.stopping.add(proc);
    this.peer?.close('session stopping');
    try {
      await proc.kill();
    } finally {
      this.stopping.delete(proc);
    }
  }

  async restart(reason: 'turn_timeout' | 'bridge_drop' | 'plugin_lost' | 'blocked' | 'evicted' | 'idle'): Promise<void> {
    if (!this.proc) return;
    if (reason !== 'evicted' && reason !== 'idle') this.deps.metrics.restarts.inc({ reason });
    const { pid } = this.proc;
    this.log.info({ reason, pid }, 'stopping Claude process');
    await this.stopProcess();
    this.log.info({ reason, pid }, 'Claude process stopped');
  }

  // ---- bridge side -------------------------------------------------------------------------

  attach(hello: Hello, peer: BridgePeer): BridgeHandler | BridgeError {
    const expected = this.prepared?.token;
    if (!this.proc || !expected) return bridgeError('unknown_session', `no Claude process is running for session ${this.key}`);
    if (!hello.token || !safeEqual(hello.token, expected)) {
      return bridgeError('unauthorized', 'hello token does not match the process this gateway spawned');
    }
    if (this.peer && this.peer !== peer) this.peer.close('replaced by a newer connection');
    this.peer = peer;
    this.log.debug({ pluginPid: peer.pid }, 'claude-plugin connected');
    return {
      onMessage: (message) => {
        if (peer !== this.peer) return;
        switch (message.type) {
          case 'ready':
            this.pluginReady = true;
            this.proc?.sessionReady();
            this.ready.resolve();
            this.deps.changed(this);
            return;
          case 'reply':
            return this.onReply(message.content, message.final);
          case 'permission_request':
            return this.onPermissionRequest(message);
          case 'error':
            this.log.warn({ code: message.code, message: message.message }, 'claude-plugin reported an error');
            return;
        }
      },
      onClose: () => {
        if (peer !== this.peer) return;
        this.peer = undefined;
        this.pluginReady = false;
        if (this.proc) this.ready = deferred<void>();
        if (this.active) void this.bridgeDroppedMidTurn(this.active);
        this.deps.changed(this);
      },
    };
  }

  /**
   * When Claude itself dies, its plugin's socket usually closes a moment before the terminal
   * reports the exit; waiting briefly for that exit names the real cause (claude_exited).
   */
  private async bridgeDroppedMidTurn(active: ActiveTurn): Promise<void> {
    const proc = this.proc;
    if (proc) await Promise.race([proc.exited, new Promise((r) => setTimeout(r, EXIT_AFTER_DROP_MS))]);
    if (active.final.settled) return;
    active.final.reject(bridgeDropped());
    // The abandoned Claude turn may still answer later; restarting guarantees that answer can
    // never be taken for the next turn's. Resume keeps the conversation.
    await this.restart('bridge_drop');
  }

  private onReply(content: string, final: boolean): void {
    const active = this.active;
    if (!active) {
      this.log.warn({ final, chars: content.length }, 'reply arrived with no turn in flight; dropped');
      return;
    }
    if (final) {
      this.settling = deferred<void>();
      active.final.resolve(content);
      return;
    }
    active.chunks.push(content);
    active.job?.request.onChunk?.(content);
  }

  // ---- permission relay --------------------------------------------------------------------

  private sendVerdict(requestId: string, behavior: Behavior): void {
    this.peer?.send({ type: 'permission', request_id: requestId, behavior });
  }

  private onPermissionRequest(message: PermissionRequest): void {
    const { type: _type, ...request } = message;
    if (this.active) this.active.permissionRequests++;
    const { permissions, permissionAllow, permissionTtlMs } = this.deps.config;
    const verdict = policyVerdict(permissions, permissionAllow, request.tool_name);
    const log = this.log.child({ permission: request.request_id, tool: request.tool_name });
    if (verdict) {
      log.info({ verdict }, 'permission answered by policy');
      this.sendVerdict(request.request_id, verdict);
      return;
    }
    const active = this.active;
    const caller = active?.job;
    // Nobody would ever see the question (no turn, a caller that went away, a chat whose earlier
    // question of this turn expired): waiting for the TTL would only stall Claude.
    if (!active || caller?.request.signal?.aborted || (!caller && this.permissions.size === 0)) {
      log.warn('permission request with nobody to ask; denied');
      this.sendVerdict(request.request_id, 'deny');
      return;
    }
    this.permissions.hold(request, permissionTtlMs, () => {
      log.info('permission request expired; denied');
      this.sendVerdict(request.request_id, 'deny');
      this.deps.changed(this);
    });
    if (!caller) {
      log.info('permission request held: the chat user is still answering an earlier one');
      return;
    }
    log.info('permission request relayed to the user');

    if (caller.request.onPermissionRequest) {
      caller.request.onPermissionRequest({
        ...request,
        answer: (behavior) => void this.answerPermission(request.request_id, behavior),
      });
      return;
    }
    // A chat client can only answer with its next message: complete this request with the
    // question and let the answer message take over the still-running Claude turn.
    active.job = undefined;
    const question = relayText(request, permissionTtlMs);
    const text = [...active.chunks, question].filter((c) => c !== '').join('\n\n');
    caller.resolve({ text, chunks: [...active.chunks], final: question });
    active.chunks = [];
  }

  /** A verdict from a front door that shows approvals natively (webchannel). */
  private answerPermission(requestId: string, behavior: Behavior): boolean {
    if (!this.permissions.answer(requestId)) return false;
    this.sendVerdict(requestId, behavior);
    this.log.info({ permission: requestId, behavior }, 'permission answered by the user');
    this.deps.changed(this);
    return true;
  }

  /**
   * `yes <id>` is an answer only where one is expected: a question is pending, the id was asked
   * here before, or the client's history ends with the question (a restarted gateway). Elsewhere
   * "no worry" is an ordinary message for Claude.
   */
  private permissionAnswer(request: TurnRequest): { requestId: string; behavior: Behavior } | undefined {
    const answer = parsePermissionAnswer(request.content);
    if (!answer) return undefined;
    const lastAssistant = request.history?.findLast((m) => m.role === 'assistant');
    const expected =
      this.permissions.size > 0 ||
      this.permissions.outcome(answer.requestId) !== undefined ||
      (lastAssistant !== undefined && askedFor(lastAssistant.content, answer.requestId));
    return expected ? answer : undefined;
  }

  /**
   * A chat message that is exactly `yes <id>` / `no <id>`: it answers the prompt instead of
   * starting a turn, and then waits for the still-running Claude turn's answer as its own.
   */
  private answerPermissionMessage(requestId: string, behavior: Behavior, request: TurnRequest): Promise<TurnResult> {
    if (!this.answerPermission(requestId, behavior)) {
      return textResult(unanswerableText(requestId, this.permissions.outcome(requestId), this.permissions.ids()));
    }
    const active = this.active;
    if (!active || active.job) {
      return textResult(`Permission ${behavior === 'allow' ? 'granted' : 'denied'}; Claude's answer goes to the conversation that asked.`);
    }
    // Claude asked again before this answer came: that question is this message's reply.
    const next = this.permissions.first();
    if (next) return textResult(relayText(next.request, next.expiresAt - Date.now()));
    return new Promise<TurnResult>((resolve, reject) => {
      active.job = { request, resolve, reject, log: this.log.child({ request: request.requestId }) };
    });
  }

  /** The Claude turn that asked is over (ended, crashed, restarted): its questions are moot. */
  private abandonPermissions(): void {
    // A Claude still blocked on one (a tool call beside the final reply) must not wait forever.
    this.permissions.abandonAll((requestId) => this.sendVerdict(requestId, 'deny'));
  }

  /** Gateway shutdown: every waiting or running turn fails with a clear error, the process stops. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new TurnError('shutting_down', 'the gateway is shutting down; the turn was not completed');
    for (const job of this.queue.splice(0)) job.reject(error);
    this.active?.final.reject(error);
    if (!this.ready.settled) this.ready.reject(error);
    this.abandonPermissions();
    await this.stopProcess();
  }
}

function textResult(text: string): Promise<TurnResult> {
  return Promise.resolve({ text, chunks: [], final: text });
}
