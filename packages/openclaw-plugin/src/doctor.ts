/**
 * `synthesis-agent doctor`: checks what a working gateway needs on this machine and prints one line
 * per check with a fix hint. The session check starts a real Claude through a throwaway gateway
 * (ephemeral ports, temporary state dir), exactly as a first turn would, then stops it.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkClaudeVersion } from './claude-version.js';
import type { GatewayConfig } from './config.js';
import { startGateway } from './gateway.js';
import { createLogger } from './logger.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

type Check = () => Promise<Omit<CheckResult, 'name'>>;

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function checks(config: GatewayConfig): [string, Check][] {
  return [
    [
      'claude',
      async () => {
        try {
          const { version } = await checkClaudeVersion(config.claudeCommand);
          return { ok: true, detail: `${config.claudeCommand} ${version}` };
        } catch (err) {
          return { ok: false, detail: (err as Error).message, fix: 'install Claude Code >= 2.1.80 or pass --claude-command' };
        }
      },
    ],
    [
      'workspace',
      async () => {
        try {
          if (!statSync(config.workspace).isDirectory()) throw new Error('not a directory');
          return { ok: true, detail: config.workspace };
        } catch (err) {
          return { ok: false, detail: `${config.workspace}: ${(err as Error).message}`, fix: 'pass --workspace <existing directory>' };
        }
      },
    ],
    [
      'state dir',
      async () => {
        try {
          mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
          accessSync(config.stateDir, constants.W_OK);
          return { ok: true, detail: config.stateDir };
        } catch (err) {
          return { ok: false, detail: (err as Error).message, fix: 'pass --state-dir <writable directory>' };
        }
      },
    ],
    ...(
      [
        ['http port', config.host, config.port],
        ['bridge port', '127.0.0.1', config.bridgePort],
      ] as const
    ).map(([name, host, port]): [string, Check] => [
      name,
      async () =>
        port === 0 || (await portFree(host, port))
          ? { ok: true, detail: `${host}:${port} is free` }
          : { ok: false, detail: `${host}:${port} is in use`, fix: `stop what uses it or pass --${name.startsWith('http') ? 'port' : 'bridge-port'} <free port>` },
    ]),
    [
      'session',
      async () => {
        const stateDir = mkdtempSync(path.join(tmpdir(), 'synthesis-doctor-'));
        const started = performance.now();
        let gateway;
        try {
          gateway = await startGateway(
            { ...config, port: 0, bridgePort: 0, stateDir, reasoningUrl: undefined, idleTimeoutMs: 0 },
            { logger: createLogger({ logLevel: 'silent', logFormat: 'json' }) },
          );
          const info = await gateway.core.startSession('doctor::probe');
          const ms = Math.round(performance.now() - started);
          return { ok: true, detail: `Claude pid ${info.pid} started, answered its dialog and reached the bridge in ${ms} ms` };
        } catch (err) {
          return {
            ok: false,
            detail: (err as Error).message,
            fix: 'run `claude` once in a terminal in the workspace (log in, trust the folder), then retry',
          };
        } finally {
          await gateway?.close();
          rmSync(stateDir, { recursive: true, force: true });
        }
      },
    ],
  ];
}

/** Runs every check in order, printing as it goes; resolves with all results. */
export async function runDoctor(config: GatewayConfig, write: (line: string) => void): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [name, check] of checks(config)) {
    const result = { name, ...(await check()) };
    results.push(result);
    const mark = result.ok ? 'ok  ' : 'FAIL';
    write(`${mark} ${name}: ${result.detail.split('\n').join('\n       ')}${result.fix ? `\n     fix: ${result.fix}` : ''}`);
  }
  return results;
}
