/**
 * Drives the real OpenClaw CLI from the cache that install-openclaw.mjs fills: a throwaway HOME
 * with an openclaw.json, one-shot commands, and a foreground `openclaw gateway run`.
 *
 * Every OpenClaw process is spawned detached (its own process group) because OpenClaw starts
 * workers of its own; cleanup kills the whole group by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureOpenClaw } from './install-openclaw.mjs';

export interface OpenClawInstall {
  node: string;
  openclaw: string;
}

/** The installed OpenClaw, or a skip reason when the npm registry cannot be reached. */
export async function prepareOpenClaw(): Promise<{ install?: OpenClawInstall; skip?: string }> {
  const result = await ensureOpenClaw();
  return result.ok ? { install: { node: result.node, openclaw: result.openclaw } } : { skip: result.reason };
}

/** A free loopback port: for config that OpenClaw needs to know before our gateway starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface OpenClawHome {
  home: string;
  /** ~/.openclaw/openclaw.json, rewritten by `openclaw plugins install`. */
  configPath: string;
  dispose(): void;
}

/**
 * A fresh HOME whose openclaw.json routes the default model to our gateway. `extra` is merged at
 * the top level (gateway, plugins, …). OpenClaw's log file goes inside HOME, not /tmp/openclaw.
 */
export function createOpenClawHome(provider: Record<string, unknown>, extra: Record<string, unknown> = {}): OpenClawHome {
  const home = mkdtempSync(path.join(tmpdir(), 'openclaw-home-'));
  const dir = path.join(home, '.openclaw');
  mkdirSync(dir);
  const configPath = path.join(dir, 'openclaw.json');
  const config = {
    models: { mode: 'merge', providers: { synthesis: provider } },
    agents: { defaults: { model: { primary: 'synthesis/claude-code' } } },
    logging: { file: path.join(home, 'openclaw.log') },
    ...extra,
  };
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  return { home, configPath, dispose: () => rmSync(home, { recursive: true, force: true }) };
}

/** OpenClaw sees only this environment: nothing of the developer's or CI's OPENCLAW_* or keys. */
function openClawEnv(install: OpenClawInstall, home: string): NodeJS.ProcessEnv {
  return {
    PATH: `${path.dirname(install.node)}${path.delimiter}${process.env.PATH ?? ''}`,
    HOME: home,
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    OPENCLAW_NO_AUTO_UPDATE: '1',
  };
}

/** Process groups ever started; a group outlives its leader when OpenClaw leaks a worker. */
const groups = new Set<number>();

function spawnOpenClaw(install: OpenClawInstall, home: string, args: string[]): ChildProcess {
  const child = spawn(install.node, [install.openclaw, ...args], {
    cwd: home,
    env: openClawEnv(install, home),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  groups.add(child.pid!);
  return child;
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // group already gone
  }
}

/** For afterAll: whatever OpenClaw process a failed test left behind, with its workers. */
export function killAllOpenClaw(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // group already gone
    }
  }
  groups.clear();
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one OpenClaw command to completion; the group is killed if it outlives `timeoutMs`. */
export function runOpenClaw(install: OpenClawInstall, home: string, args: string[], timeoutMs = 180_000): Promise<RunResult> {
  const child = spawnOpenClaw(install, home, args);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`openclaw ${args.join(' ')} still running after ${timeoutMs} ms\nstdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      // Workers of a finished command must not outlive it.
      killGroup(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * `openclaw agent … --json` output: the reply text and the session it ran in. With --local the
 * run result is the whole document; through the gateway it is wrapped as `{runId, status, result}`.
 */
export interface AgentTurn {
  text: string;
  sessionId: string;
}

export function parseAgentJson(result: RunResult): AgentTurn {
  if (result.code !== 0) throw new Error(`openclaw agent exited ${result.code}\nstdout:\n${result.stdout.slice(-3000)}\nstderr:\n${result.stderr.slice(-3000)}`);
  type Run = { payloads: { text?: string }[]; meta: { agentMeta: { sessionId: string } } };
  const doc = JSON.parse(result.stdout) as Run | { result: Run };
  const run = 'result' in doc ? doc.result : doc;
  return { text: run.payloads.map((p) => p.text ?? '').join(''), sessionId: run.meta.agentMeta.sessionId };
}

export interface OpenClawGateway {
  pid: number;
  output(): string;
  /** Resolves when a console line matches; rejects on timeout or if the gateway exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * SIGTERM to the gateway process alone, as a service manager would; resolves with its exit code.
   * What it leaves behind is left for the test to see (killAllOpenClaw cleans up afterwards).
   */
  terminate(timeoutMs?: number): Promise<number | null>;
}

/** `openclaw gateway run` in the foreground; resolves once it logs `[gateway] ready`. */
export async function startOpenClawGateway(install: OpenClawInstall, home: string, timeoutMs = 180_000): Promise<OpenClawGateway> {
  const child = spawnOpenClaw(install, home, ['gateway', 'run']);
  let output = '';
  const watchers = new Set<() => void>();
  const onData = (d: string) => {
    output += d;
    for (const w of watchers) w();
  };
  child.stdout!.setEncoding('utf8').on('data', onData);
  child.stderr!.setEncoding('utf8').on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLine = (pattern: RegExp, ms = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = output.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) finish(() => resolve(line));
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        watchers.delete(check);
        settle();
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no line matching ${pattern} within ${ms} ms:\n${output.slice(-4000)}`))), ms);
      watchers.add(check);
      void exited.then((code) => finish(() => reject(new Error(`openclaw gateway exited (${code}) before ${pattern}:\n${output.slice(-4000)}`))));
      check();
    });

  await waitForLine(/\[gateway\] ready\b/, timeoutMs);
  return {
    pid: child.pid!,
    output: () => output,
    waitForLine,
    terminate: async (ms = 60_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(child), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
