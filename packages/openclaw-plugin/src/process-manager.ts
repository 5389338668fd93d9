/**
 * Runs one Claude Code process in a pseudo-terminal. Channels exist only in the interactive TUI,
 * so Claude needs a terminal; this module watches what that terminal shows, answers the screens
 * the launcher may answer (the development-channels warning on every launch), and reports the
 * ones that need a person.
 */
import { spawn as spawnPty, type IPty } from '@lydell/node-pty';
import { classifyScreen, type ScreenMatch } from './claude-screens.js';
import { TerminalScreen } from './terminal-screen.js';
import type { Logger } from './logger.js';

const KILL_GRACE_MS = 3000;

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
  private watching = true;
  private readonly answered = new Set<string>();
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
    this.pty.onData((data) => {
      void this.screen.write(data).then(() => this.inspect(launch.trustWorkspace, hooks));
    });
    this.exited = new Promise((resolve) => {
      this.pty.onExit(({ exitCode, signal }) => {
        this.alive = false;
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

  /** Once the session is up, screen text is the model's conversation: stop matching dialogs in it. */
  stopWatching(): void {
    this.watching = false;
  }

  lastScreenLines(n = 12): string {
    if (this.finalScreen !== undefined) return this.finalScreen.split('\n').slice(-n).join('\n');
    return this.screen.lastLines(n);
  }

  private inspect(trustWorkspace: boolean, hooks: ClaudeProcessHooks): void {
    if (!this.watching || !this.alive) return;
    const match = classifyScreen(this.screen.text(), { trustWorkspace });
    if (!match || this.answered.has(match.kind)) return;
    this.answered.add(match.kind);
    if (match.answer !== undefined) {
      this.logger.debug({ pid: this.pid, screen: match.kind }, 'answering Claude Code screen');
      this.pty.write(match.answer);
    } else {
      hooks.onBlocked(match);
    }
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
