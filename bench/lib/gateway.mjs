/** Runs the real gateway CLI (compiled JS) as a child process for benches. */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { descendants, reap } from './proc.mjs';
import { ROOT } from './ts-helpers.mjs';

export { ROOT };
export const CLI = path.join(ROOT, 'packages/openclaw-plugin/dist/cli.js');
export const FAKE_CLAUDE = path.join(ROOT, 'test/fixtures/bin/fake-claude');

/** The Node flags `npm start` runs the gateway with (V8 sizing, docs/performance.md): benches measure that. */
const START_NODE_FLAGS = (() => {
  const { scripts } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const match = /\bnode((?: --\S+)*) packages\/openclaw-plugin\/dist\/cli\.js/.exec(scripts.start);
  if (!match) throw new Error('package.json "start" no longer runs node … packages/openclaw-plugin/dist/cli.js');
  return match[1].trim().split(' ').filter(Boolean);
})();

/**
 * Starts the gateway with `args` on free ports and a temp state dir; resolves once it logged its
 * URLs. `env` replaces the inherited environment when given (the real-Claude bench needs a
 * hermetic one). `args` must keep the log level at info or below: the ready line is an info line.
 * BENCH_GATEWAY_LOG=<file> appends the gateway's whole log to that file.
 */
export async function startGateway({ args = [], env, claudeCommand = FAKE_CLAUDE, readyTimeoutMs = 30_000 } = {}) {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'synthesis-bench-'));
  const child = spawn(
    process.execPath,
    [...START_NODE_FLAGS, CLI, '--port', '0', '--bridge-port', '0', '--state-dir', stateDir, '--claude-command', claudeCommand, '--log-level', 'info', ...args],
    {
      cwd: ROOT,
      env: env ?? { ...process.env, CLAUDE_CONFIG_DIR: path.join(stateDir, 'claude-config') },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const logFile = process.env.BENCH_GATEWAY_LOG ? createWriteStream(process.env.BENCH_GATEWAY_LOG, { flags: 'a' }) : undefined;
  let tail = '';
  let buffer = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway not ready within ${readyTimeoutMs} ms:\n${tail}`)), readyTimeoutMs);
    child.stderr.setEncoding('utf8').on('data', (data) => {
      logFile?.write(data);
      tail = (tail + data).slice(-8000);
      buffer += data;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.includes('"httpUrl"')) continue;
        const { httpUrl, bridgeUrl } = JSON.parse(line);
        clearTimeout(timer);
        resolve({ httpUrl, bridgeUrl });
      }
    });
    void exited.then((code) => reject(new Error(`gateway exited (${code}) before it was ready:\n${tail}`)));
  });
  let urls;
  try {
    urls = await ready;
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    rmSync(stateDir, { recursive: true, force: true });
    logFile?.end();
    throw err;
  }
  const { httpUrl, bridgeUrl } = urls;
  return {
    httpUrl,
    bridgeUrl,
    pid: child.pid,
    stateDir,
    async metrics() {
      return (await fetch(`${httpUrl}/metrics`)).text();
    },
    /** SIGTERM, then makes sure nothing it started survives; returns the pids that had to be killed. */
    async stop() {
      const tree = descendants(child.pid);
      child.kill('SIGTERM');
      await exited;
      const survivors = await reap(tree);
      rmSync(stateDir, { recursive: true, force: true });
      logFile?.end();
      return survivors;
    },
  };
}

/** A Prometheus sample value from /metrics text, e.g. sample(text, 'synthesis_live_sessions'). */
export function sample(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
