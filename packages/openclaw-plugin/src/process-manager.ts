/**
 * Runs one Claude Code process in a pseudo-terminal. Channels exist only in the interactive TUI,
 * so Claude needs a terminal; this module watches what that terminal shows, answers the screens
 * the launcher may answer (the development-channels warning on every launch), and reports the
 * ones that need a person.
 */
import { spawn as spawnPty, type IPty } from '@lydell/node-pty';
import { classifyScreen, type ScreenKind, type ScreenMatch } from './claude-screens.js';
import { TerminalScreen } from './terminal-screen.js';
import type { Logger } from './logger.js';

const KILL_GRACE_MS = 3000;
/**
 * Screens are classified only once the terminal has been quiet this long: the trust dialog is
 * re-mounted ~200 ms after it first appears and drops keys typed before that (docs/claude-code.md).
 */
const QUIET_MS = 300;
/** An answered screen still showing after this long is classified and answered again. */
const REANSWER_MS = 1500;
const MAX_ANSWERS_PER_SCREEN = 3;
/** Screens that can stop a turn after start-up; dialogs are not looked for once the session is up. */
const TURN_BLOCKERS: ReadonlySet<ScreenKind> = new Set(['login', 'invalid_api_key', 'permission_prompt']);

export interface ClaudeLaunch {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Whether the launcher may answer this workspace's trust dialog (--trust-workspace). */
  trustWorkspace: boolean;
}

export interface ClaudeExit {
  exitCode: number;
  signal?: number | undefined;
}

export interface ClaudeProcessHooks {
  /** A start-up screen that needs a person (login, untrusted workspace, …). */
  onBlocked(match: ScreenMatch): void;
  onExit(exit: ClaudeExit): void;
}

export class ClaudeProcess {
  readonly pid: number;
  readonly exited: Promise<ClaudeExit>;
  private readonly pty: IPty;
  private readonly screen = new TerminalScreen();
  /** Before ready every screen is looked for; after it only the ones that block a turn. */
  private phase: 'starting' | 'running' = 'starting';
  private readonly answers = new Map<ScreenKind, { count: number; at: number }>();
  private readonly reported = new Set<ScreenKind>();
  private quietTimer: NodeJS.Timeout | undefined;
  private alive = true;
  private finalScreen?: string;

  constructor(launch: ClaudeLaunch, hooks: ClaudeProcessHooks, private readonly logger: Logger) {
    this.pty = spawnPty(launch.command, launch.args, {
      name: 'xterm-256color',
      cols: 120,
      rows: 40,
      cwd: launch.cwd,
      env: launch.env,
    });
    this.pid = this.pty.pid;
    const inspectWhenQuiet = () => {
      clearTimeout(this.quietTimer);
      this.quietTimer = setTimeout(() => this.inspect(launch.trustWorkspace, hooks, inspectWhenQuiet), QUIET_MS);
    };
    this.pty.onData((data) => {
      void this.screen.write(data).then(inspectWhenQuiet);
    });
    this.exited = new Promise((resolve) => {
      this.pty.onExit(({ exitCode, signal }) => {
        this.alive = false;
        clearTimeout(this.quietTimer);
        // Let the emulator finish parsing the last output so error messages quote it.
        void this.screen.write('').then(() => {
          this.finalScreen = this.screen.lastLines(40);
          this.screen.dispose();
          const exit = { exitCode, signal };
          hooks.onExit(exit);
          resolve(exit);
        });
      });
    });
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /**
   * Once the session is up, screen text is the model's conversation: stop matching start-up
   * dialogs in it, keep looking for the few screens that block a turn.
   */
  sessionReady(): void {
    this.phase = 'running';
    this.reported.clear();
  }

  /** Whether the terminal shows a screen of this kind right now. */
  showing(kind: ScreenKind): boolean {
    return this.alive && classifyScreen(this.screen.text(), { only: new Set([kind]) }) !== undefined;
  }

  lastScreenLines(n = 12): string {
    if (this.finalScreen !== undefined) return this.finalScreen.split('\n').slice(-n).join('\n');
    return this.screen.lastLines(n);
  }

  private inspect(trustWorkspace: boolean, hooks: ClaudeProcessHooks, again: () => void): void {
    if (!this.alive) return;
    const match = classifyScreen(this.screen.text(), this.phase === 'running' ? { only: TURN_BLOCKERS } : { trustWorkspace });
    if (!match) {
      // The screen moved on: the same blocker in a later turn is news again.
      if (this.phase === 'running') this.reported.clear();
      return;
    }
    if (match.answer === undefined) {
      if (this.reported.has(match.kind)) return;
      this.reported.add(match.kind);
      hooks.onBlocked(match);
      return;
    }
    const previous = this.answers.get(match.kind);
    if (previous && performance.now() - previous.at < REANSWER_MS) return;
    if (previous && previous.count >= MAX_ANSWERS_PER_SCREEN) {
      if (!this.reported.has(match.kind)) {
        this.reported.add(match.kind);
        hooks.onBlocked({ kind: match.kind, fix: `the launcher answered this screen ${previous.count} times and it is still showing` });
      }
      return;
    }
    this.answers.set(match.kind, { count: (previous?.count ?? 0) + 1, at: performance.now() });
    this.logger.debug({ pid: this.pid, screen: match.kind, attempt: (previous?.count ?? 0) + 1 }, 'answering Claude Code screen');
    this.pty.write(match.answer);
    // If the keys were dropped nothing redraws, so look again once the retry interval has passed.
    setTimeout(again, REANSWER_MS).unref();
  }

  /** SIGTERM to the whole process group (Claude, its MCP servers, its tools), SIGKILL if it lingers. */
  async kill(): Promise<ClaudeExit> {
    if (this.alive) {
      signalGroup(this.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), KILL_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    // Children that outlived their leader (a tool Claude started) still share its group.
    signalGroup(this.pid, 'SIGKILL');
    return this.exited;
  }
}

/** node-pty makes the child a session leader, so its pid is also its process-group id. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
