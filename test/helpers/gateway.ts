/**
 * Runs the real gateway CLI (compiled JS) as a child process for e2e tests, with the fake Claude
 * as its --claude-command unless told otherwise, and gives tests its URLs, logs and an OpenAI
 * client pointed at it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { descendants, killQuietly, waitForExit } from './processes.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'packages/openclaw-plugin/dist/cli.js');
export const FAKE_CLAUDE = path.join(ROOT, 'test/fixtures/bin/fake-claude');

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface TestGateway {
  httpUrl: string;
  bridgeUrl: string;
  pid: number;
  stateDir: string;
  logs: LogLine[];
  process: ChildProcess;
  openai(options?: { apiKey?: string; headers?: Record<string, string> }): OpenAI;
  /** Resolves with the first matching log line at index `from` (default 0: past lines count) or later. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number, from?: number): Promise<LogLine>;
  healthz(): Promise<HealthReport>;
  /** SIGTERM (or `signal`), wait for exit, then make sure no descendant survived. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; survivors: number[] }>;
}

export interface HealthReport {
  liveSessions: number;
  queued: number;
  sessions: { key: string; state: string; pid?: number; claudeSessionId: string; queued: number; turns: number; workspace: string }[];
  limits: { maxSessions: number; idleTimeoutMs: number; queueDepth: number };
}

export interface StartOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Reuse a state dir (gateway restart tests); a fresh temp dir otherwise. */
  stateDir?: string;
  claudeCommand?: string;
  readyTimeoutMs?: number;
}

const running = new Set<TestGateway>();

/** The Authorization header a gateway started with `--api-key <key>` expects. */
export function authHeader(args: string[] = []): Record<string, string> {
  const i = args.indexOf('--api-key');
  return i >= 0 && args[i + 1] ? { authorization: `Bearer ${args[i + 1]}` } : {};
}

export async function startTestGateway(options: StartOptions = {}): Promise<TestGateway> {
  const stateDir = options.stateDir ?? mkdtempSync(path.join(tmpdir(), 'synthesis-state-'));
  const args = [
    CLI,
    '--port', '0',
    '--bridge-port', '0',
    '--state-dir', stateDir,
    '--claude-command', options.claudeCommand ?? FAKE_CLAUDE,
    '--log-level', 'debug',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // The fake Claude keeps its transcripts under CLAUDE_CONFIG_DIR; keep them inside the state dir.
    env: { ...process.env, CLAUDE_CONFIG_DIR: path.join(stateDir, 'claude-config'), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let stderrTail = '';
  let buffer = '';
  child.stderr!.setEncoding('utf8').on('data', (data: string) => {
    // SYNTHESIS_TEST_LOGS=1 shows the gateway's own log while debugging a test.
    if (process.env.SYNTHESIS_TEST_LOGS) process.stderr.write(data);
    stderrTail = (stderrTail + data).slice(-4000);
    buffer += data;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: 0, msg: text };
      }
      logs.push(line);
      for (const w of waiters) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  child.stdout!.resume();

  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 60_000, from = 0) => {
    const seen = logs.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = { match, resolve: (l: LogLine) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`log line not seen within ${timeoutMs} ms; stderr tail:\n${stderrTail}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await Promise.race([
    waitForLog((l) => typeof l.httpUrl === 'string', options.readyTimeoutMs ?? 60_000),
    exited.then((code) => {
      throw new Error(`gateway exited with code ${code} before it was ready:\n${stderrTail}`);
    }),
  ]);

  const gateway: TestGateway = {
    httpUrl: ready.httpUrl as string,
    bridgeUrl: ready.bridgeUrl as string,
    pid: child.pid!,
    stateDir,
    logs,
    process: child,
    waitForLog,
    openai: (o = {}) =>
      new OpenAI({
        baseURL: `${ready.httpUrl as string}/v1`,
        apiKey: o.apiKey ?? 'unused',
        maxRetries: 0,
        ...(o.headers ? { defaultHeaders: o.headers } : {}),
      }),
    // /healthz is behind --api-key like the OpenAI routes.
    healthz: async () => (await (await fetch(`${ready.httpUrl as string}/healthz`, { headers: authHeader(options.args) })).json()) as HealthReport,
    stop: async (signal = 'SIGTERM') => {
      running.delete(gateway);
      const tree = descendants(child.pid!);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      // Everything the gateway started must be gone once it has exited.
      let survivors: number[] = [];
      try {
        await waitForExit(tree, 5000);
      } catch {
        survivors = tree.filter((pid) => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        });
        for (const pid of survivors) killQuietly(pid);
      }
      if (!options.stateDir) rmSync(stateDir, { recursive: true, force: true });
      return { code, survivors };
    },
  };
  running.add(gateway);
  return gateway;
}

/** For afterAll hooks: stop whatever a failing test left running. */
export async function stopAllGateways(): Promise<void> {
  await Promise.all([...running].map((g) => g.stop('SIGKILL')));
}
