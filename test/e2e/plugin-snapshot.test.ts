/**
 * The claude-plugin's startup snapshot as the gateway prepares it (plugin-snapshot.ts): built with
 * the real `node`, reused, rebuilt when it does not run, and skipped with a warning when the cache
 * dir is unusable, in which case sessions launch the bundle. What the snapshot does once running is
 * covered form by form in claude-plugin.test.ts, and through the gateway by every other e2e test.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PLUGIN_NODE_ENV, prepareLaunch, type LaunchSettings } from '../../packages/openclaw-plugin/src/claude-launch.js';
import { preparePluginSnapshot } from '../../packages/openclaw-plugin/src/plugin-snapshot.js';
import { ROOT, startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';

const BUILD_MS = 60_000;
const BUNDLE = path.join(ROOT, 'packages/claude-plugin/dist/bundle.js');

let root: string;
let logs: { level: number; msg: string; [key: string]: unknown }[];
const logger = () =>
  pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) });

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'plugin-snapshot-'));
  logs = [];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));
afterAll(stopAllGateways);

/** Starts the plugin from `file` the way a launch does, minus its env: it must say what is missing. */
async function runSnapshot(file: string) {
  return execa(process.execPath, ['--snapshot-blob', file], { env: { ...PLUGIN_NODE_ENV, PATH: process.env.PATH }, extendEnv: false, reject: false, timeout: 15_000 });
}

/** The plugin's entry in an --mcp-config file the gateway wrote. */
function pluginServer(configFile: string): { args: string[]; env: Record<string, string> } {
  return (JSON.parse(readFileSync(configFile, 'utf8')) as { mcpServers: { synthesis: { args: string[]; env: Record<string, string> } } }).mcpServers.synthesis;
}

/** The plugin command line of a launch with these settings, read from the --mcp-config it writes. */
function pluginArgs(pluginSnapshot: string | undefined): string[] {
  const settings: LaunchSettings = {
    claudeCommand: 'claude',
    claudeArgs: [],
    bridgeUrl: 'ws://127.0.0.1:1/bridge',
    runDir: path.join(root, 'run'),
    trustWorkspaces: [],
    env: {},
    pluginSnapshot,
  };
  const prepared = prepareLaunch({ sessionKey: 's', claudeSessionId: randomUUID(), resume: false, workspace: root }, settings);
  const { args } = prepared.launch;
  const server = pluginServer(args[args.indexOf('--mcp-config') + 1]!);
  prepared.cleanup();
  expect(server.env).toMatchObject(PLUGIN_NODE_ENV);
  return server.args;
}

describe('claude-plugin startup snapshot', () => {
  it('is built once into a private file in the cache dir, then reused', async () => {
    const cacheDir = path.join(root, 'cache', 'nested');
    const file = await preparePluginSnapshot(cacheDir, logger());
    expect(file, JSON.stringify(logs)).toBeDefined();
    expect(path.dirname(file!)).toBe(cacheDir);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(file!).mode & 0o777).toBe(0o600);
    expect(logs.find((l) => l.msg === 'claude-plugin startup snapshot built')).toMatchObject({ file });

    const before = statSync(file!).mtimeMs;
    logs = [];
    expect(await preparePluginSnapshot(cacheDir, logger())).toBe(file);
    expect(logs.map((l) => l.msg)).toEqual(['claude-plugin startup snapshot reused']);
    expect(statSync(file!).mtimeMs).toBe(before);

    const run = await runSnapshot(file!);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('synthesis-claude-plugin: SYNTHESIS_WS_URL is required');
    expect(pluginArgs(file)).toEqual(['--snapshot-blob', file]);
  }, BUILD_MS);

  it('builds a cached snapshot again when it does not run, and says so', async () => {
    const cacheDir = path.join(root, 'cache');
    const file = (await preparePluginSnapshot(cacheDir, logger()))!;
    expect(file).toBeDefined();
    writeFileSync(file, 'not a snapshot');
    logs = [];

    expect(await preparePluginSnapshot(cacheDir, logger())).toBe(file);
    expect(logs.find((l) => l.level === 40)).toMatchObject({
      msg: 'cached claude-plugin startup snapshot does not run; building it again',
      file,
      problem: expect.stringMatching(/^it does not start the plugin: (exit code \d+|signal SIG[A-Z]+)/),
    });
    expect(logs.some((l) => l.msg === 'claude-plugin startup snapshot built')).toBe(true);
    expect((await runSnapshot(file)).stderr).toContain('SYNTHESIS_WS_URL is required');
  }, BUILD_MS);

  it('is skipped with a warning naming the cache dir when it cannot be written; launches use the bundle', async () => {
    const notADir = path.join(root, 'file');
    writeFileSync(notADir, '');
    expect(await preparePluginSnapshot(notADir, logger())).toBeUndefined();
    const warning = logs.find((l) => l.level === 40);
    expect(warning).toMatchObject({ cacheDir: notADir, err: expect.stringMatching(/ENOTDIR|EEXIST/) });
    expect(warning?.msg).toMatch(/^no claude-plugin startup snapshot: sessions start the plugin from its bundle .*cache dir is writable/);

    expect(pluginArgs(undefined)).toEqual([BUNDLE]);
  });

  it('launches the bundle when the snapshot was removed after the gateway started', () => {
    expect(pluginArgs(path.join(root, 'deleted.blob'))).toEqual([BUNDLE]);
  });
});

describe('the gateway and the startup snapshot', () => {
  /** One turn through the gateway, and the plugin command line of the session it started. */
  async function turnAndPluginArgs(gateway: TestGateway): Promise<string[]> {
    const completion = await gateway.openai({ headers: { 'x-openclaw-chat-id': 'snapshot' } }).chat.completions.create({
      model: 'claude-code',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(completion.choices[0]?.message.content).toBe('echo: hello');
    const runDir = path.join(gateway.stateDir, 'run');
    const [config] = readdirSync(runDir).filter((f) => /^mcp-.*\.json$/.test(f));
    return pluginServer(path.join(runDir, config!)).args;
  }

  it('launches every session from the snapshot it prepared at start', async () => {
    const cacheDir = path.join(root, 'cache');
    const gateway = await startTestGateway({ args: ['--cache-dir', cacheDir] });
    try {
      const built = await gateway.waitForLog((l) => l.msg === 'claude-plugin startup snapshot built');
      expect(path.dirname(built.file as string)).toBe(cacheDir);
      expect(await turnAndPluginArgs(gateway)).toEqual(['--snapshot-blob', built.file]);
    } finally {
      expect((await gateway.stop()).survivors).toEqual([]);
    }
  }, BUILD_MS);

  it('still serves turns, from the bundle, when the cache dir is unusable, and warns once at start', async () => {
    const notADir = path.join(root, 'file');
    writeFileSync(notADir, '');
    const gateway = await startTestGateway({ args: ['--cache-dir', notADir] });
    try {
      const warning = await gateway.waitForLog((l) => l.level === 40 && l.msg.startsWith('no claude-plugin startup snapshot'));
      expect(warning.cacheDir).toBe(notADir);
      expect(await turnAndPluginArgs(gateway)).toEqual([BUNDLE]);
      expect(gateway.logs.filter((l) => l.msg.startsWith('no claude-plugin startup snapshot'))).toHaveLength(1);
    } finally {
      expect((await gateway.stop()).survivors).toEqual([]);
    }
  });
});
