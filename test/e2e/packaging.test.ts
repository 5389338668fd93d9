/**
 * The three packages as a user gets them: `npm pack` each workspace, `npm install` the tarballs
 * into a fresh project, and run what they ship from there — the gateway CLI with one real chat
 * completion (through the INSTALLED claude-plugin, not the repository's), the web UI, the
 * library exports, and the claude-plugin loaded by the real Claude Code as a Claude Code plugin.
 *
 * The tarballs' own dependencies come from the npm registry (the local cache first), so the suite
 * is skipped — with a message saying so — only when `npm ping` cannot reach the registry.
 * Needs `npm run build` first (the tarballs pack dist/ as it is).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as pty from '@lydell/node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic/server.js';
import { seedClaudeHome, type ClaudeHome } from '../helpers/claude-home.js';
import { FAKE_CLAUDE, ROOT } from '../helpers/gateway.js';
import { descendants, isAlive, killQuietly, waitForExit } from '../helpers/processes.js';
import { realClaudeBinary } from '../helpers/real-claude.js';

const exec = promisify(execFile);

const WORKSPACES = ['protocol', 'claude-plugin', 'openclaw-plugin'] as const;
type Workspace = (typeof WORKSPACES)[number];
const NAMES: Record<Workspace, string> = {
  protocol: '@synthesis-agent/protocol',
  'claude-plugin': '@synthesis-agent/claude-plugin',
  'openclaw-plugin': '@synthesis-agent/openclaw-plugin',
};
/** What the plugin is called as a Claude Code plugin (.claude-plugin/plugin.json `name`). */
const CLAUDE_PLUGIN_NAME = 'synthesis-agent';
const INSTALL_TIMEOUT_MS = 180_000;

/**
 * The environment for child npm commands: ours, minus what `npm test` exported about the
 * repository's own run (its prefix, package and lifecycle), which must not steer an install in
 * another directory. Registry, cache and proxy settings pass through.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|command$|config_(local_prefix|workspaces?|include_workspace_root|call)$)/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

async function probeRegistry(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await exec('npm', ['ping', '--fetch-retries=0', '--fetch-timeout=20000'], { cwd: ROOT, env: npmEnv(), timeout: 60_000 });
    return { ok: true };
  } catch (err) {
    const e = err as { stderr?: string; message: string; killed?: boolean };
    const errors = (e.stderr ?? '')
      .split('\n')
      .filter((line) => /^npm error \S/.test(line) && !/complete log|npm help|behind a proxy/.test(line))
      .map((line) => line.replace(/^npm error /, ''));
    return { ok: false, reason: e.killed ? 'no answer within 60 s' : errors.slice(0, 2).join('; ') || e.message.split('\n')[0]! };
  }
}

const registry = await probeRegistry();
const SKIP_NOTE = registry.ok
  ? ''
  : ` — SKIPPED: the npm registry is unreachable (\`npm ping\` failed: ${registry.reason}); ` +
    'the packed tarballs cannot get their dependencies installed';
if (!registry.ok) console.warn(`test/e2e/packaging.test.ts${SKIP_NOTE}`);

interface PackedFile {
  path: string;
}
interface PackResult {
  name: string;
  version: string;
  filename: string;
  files: PackedFile[];
}

/** Everything a test started, for afterAll to end by pid if the test could not. */
const started = new Set<number>();
const scratch: string[] = [];

function track(pid: number | undefined): number {
  if (!pid) throw new Error('process did not start');
  started.add(pid);
  return pid;
}

/** Ends `pid` (SIGTERM, then SIGKILL after `graceMs`) and waits until it and everything it started are gone. */
async function stopTree(pid: number, graceMs = 5000): Promise<void> {
  const tree = [pid, ...descendants(pid)];
  killQuietly(pid, 'SIGTERM');
  try {
    await waitForExit([pid], graceMs);
  } catch {
    killQuietly(pid, 'SIGKILL');
  }
  try {
    await waitForExit(tree, 60_000);
  } catch {
    for (const p of tree.filter(isAlive)) killQuietly(p);
    await waitForExit(tree, 60_000);
  }
  started.delete(pid);
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Resolves when `check` returns a value; polls on every `notify()`; rejects after `timeoutMs`. */
function waitFor<T>(what: string, subscribe: (poll: () => void) => () => void, check: () => T | undefined, timeoutMs: number, detail: () => string = () => ''): Promise<T> {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail() ? `\n${detail()}` : ''}`));
    }, timeoutMs);
    const poll = () => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    };
    unsubscribe = subscribe(poll);
    poll();
  });
}

/** Bare module specifiers (`pkg`, `@scope/pkg/sub`) that a compiled ES module imports or requires. */
function bareImports(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const spec = match[1]!;
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
      out.push(spec);
    }
  }
  return out;
}

function packageOf(spec: string): string {
  return spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
}

function jsFiles(dir: string, skip: (relative: string) => boolean, base = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    const relative = path.relative(base, full);
    if (skip(relative)) continue;
    if (statSync(full).isDirectory()) out.push(...jsFiles(full, skip, base));
    else if (entry.endsWith('.js')) out.push(full);
  }
  return out;
}

/** Every file path a package.json's main/types/bin/exports points at. */
function manifestTargets(manifest: Record<string, any>): string[] {
  const targets: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''));
    else if (value && typeof value === 'object') for (const v of Object.values(value)) add(v);
  };
  add(manifest.main);
  add(manifest.types);
  add(manifest.bin);
  add(manifest.exports);
  return [...new Set(targets)];
}

const ANSI = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[@-_]/g;

describe.skipIf(!registry.ok)(`packed tarballs installed into a fresh project${SKIP_NOTE}`, () => {
  let work: string;
  let project: string;
  let packed: Record<Workspace, PackResult>;
  const installed = (w: Workspace) => path.join(project, 'node_modules', NAMES[w]);

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'synthesis-packaging-'));
    scratch.push(work);
    const tarballs = path.join(work, 'tarballs');
    project = path.join(work, 'project');
    mkdirSync(tarballs);
    mkdirSync(project);

    const { stdout } = await exec(
      'npm',
      ['pack', '--json', '--loglevel=error', '--pack-destination', tarballs, ...WORKSPACES.flatMap((w) => ['--workspace', `packages/${w}`])],
      { cwd: ROOT, env: npmEnv(), timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const results = JSON.parse(stdout) as PackResult[];
    packed = Object.fromEntries(
      WORKSPACES.map((w) => {
        const result = results.find((r) => r.name === NAMES[w]);
        if (!result) throw new Error(`npm pack produced no tarball for ${NAMES[w]}`);
        return [w, result];
      }),
    ) as Record<Workspace, PackResult>;

    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'synthesis-packaging-probe', private: true, type: 'module' }, null, 2));
    try {
      await exec(
        'npm',
        ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...WORKSPACES.map((w) => path.join(tarballs, packed[w].filename))],
        { cwd: project, env: npmEnv(), timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      );
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`npm install of the packed tarballs failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
  }, INSTALL_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    for (const pid of [...started]) await stopTree(pid, 1000).catch(() => killQuietly(pid));
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });

  it('packs dist, the manifests and every file package.json points at, and no sources', () => {
    for (const w of WORKSPACES) {
      const files = new Set(packed[w].files.map((f) => f.path));
      const manifest = JSON.parse(readFileSync(path.join(ROOT, 'packages', w, 'package.json'), 'utf8')) as Record<string, any>;
      expect(manifest).toMatchObject({ type: 'module', license: 'MIT', engines: { node: '>=20.19' } });
      expect(typeof manifest.description).toBe('string');
      for (const target of manifestTargets(manifest)) expect(files, `${NAMES[w]}: ${target}`).toContain(target);
      for (const file of files) expect(file, `${NAMES[w]} ships ${file}`).not.toMatch(/^(src|ui|scripts)\/|tsconfig|tsbuildinfo/);
    }
    const plugin = new Set(packed['claude-plugin'].files.map((f) => f.path));
    for (const f of ['.claude-plugin/plugin.json', '.mcp.json', 'dist/turn-end-hook.js']) expect(plugin).toContain(f);
    const gateway = new Set(packed['openclaw-plugin'].files.map((f) => f.path));
    for (const f of ['openclaw.plugin.json', 'dist/openclaw-entry.js', 'dist/ui/index.html']) expect(gateway).toContain(f);
    expect([...gateway].some((f) => /^dist\/ui\/app-[\w-]+\.js$/.test(f)), 'dist/ui/app-HASH.js').toBe(true);
  });

  it('declares every module each installed package imports as its own dependency', () => {
    const builtins = new Set(builtinModules);
    for (const w of WORKSPACES) {
      const dir = installed(w);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      const declared = new Set(Object.keys(manifest.dependencies ?? {}));
      // dist/ui is a browser bundle and the plugin bundle (bundle.js + bundle-chunks/) inlines its
      // dependencies: neither imports packages at run time.
      const files = jsFiles(path.join(dir, 'dist'), (rel) => rel === 'ui' || rel === 'bundle-chunks' || /bundle\.js$/.test(rel));
      expect(files.length).toBeGreaterThan(0);
      const missing = new Set<string>();
      for (const file of files) {
        for (const spec of bareImports(readFileSync(file, 'utf8'))) {
          const name = packageOf(spec);
          if (!builtins.has(name) && !declared.has(name)) missing.add(`${name} (${path.relative(dir, file)})`);
        }
      }
      expect([...missing], `${NAMES[w]} imports undeclared packages`).toEqual([]);
    }
  });

  it('resolves every export the packages use of each other, and the library entry loads', async () => {
    const probe = path.join(project, 'probe.mjs');
    writeFileSync(
      probe,
      `const out = {};
for (const spec of ['@synthesis-agent/protocol', '@synthesis-agent/protocol/bridge', '@synthesis-agent/protocol/backoff',
  '@synthesis-agent/claude-plugin', '@synthesis-agent/claude-plugin/turn-end-hook', '@synthesis-agent/claude-plugin/package.json',
  '@synthesis-agent/openclaw-plugin', '@synthesis-agent/openclaw-plugin/package.json']) out[spec] = import.meta.resolve(spec);
const bridge = await import('@synthesis-agent/protocol/bridge');
const backoff = await import('@synthesis-agent/protocol/backoff');
const gateway = await import('@synthesis-agent/openclaw-plugin');
out.parseFrame = typeof bridge.parseFrame;
out.backoffDelay = typeof backoff.backoffDelay;
out.startGateway = typeof gateway.startGateway;
console.log(JSON.stringify(out));
`,
    );
    const { stdout } = await exec(process.execPath, [probe], { cwd: project, timeout: 30_000 });
    const out = JSON.parse(stdout) as Record<string, string>;
    expect(out).toMatchObject({ parseFrame: 'function', backoffDelay: 'function', startGateway: 'function' });
    const modules = realpathSync(path.join(project, 'node_modules'));
    for (const [spec, url] of Object.entries(out).filter(([k]) => k.startsWith('@'))) {
      expect(url, spec).toMatch(/^file:/);
      expect(realpathSync(new URL(url)), spec).toContain(modules + path.sep);
    }
  });

  it('gives TypeScript consumers types through the exports (no skipLibCheck)', async () => {
    const file = path.join(project, 'consumer.ts');
    writeFileSync(
      file,
      `import { startGateway, loadConfig, type GatewayConfig } from '@synthesis-agent/openclaw-plugin';
import { parseFrame, PluginToGatewaySchema, type Hello } from '@synthesis-agent/protocol/bridge';
import { backoffDelay } from '@synthesis-agent/protocol/backoff';
import { EnvelopeSchema } from '@synthesis-agent/protocol';
const start: (config: GatewayConfig) => Promise<{ httpUrl: string; close(): Promise<void> }> = startGateway;
const delay: number = backoffDelay(1);
const hello: Hello = { type: 'hello', openclaw_session: 's', claude_session: 'c', pid: 1 };
void [start, delay, hello, loadConfig, parseFrame, PluginToGatewaySchema, EnvelopeSchema];
`,
    );
    // The repository's TypeScript and @types/node: the consumer project has neither installed.
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
    args.push('--typeRoots', path.join(ROOT, 'node_modules/@types'), '--types', 'node', file);
    const result = await exec(process.execPath, [tsc, ...args], { cwd: project, timeout: 60_000 }).then(
      () => ({ code: 0, stdout: '' }),
      (err: { code: number; stdout: string }) => err,
    );
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('runs the bins: synthesis-agent --help, and synthesis-claude-plugin refusing a launch without its env', async () => {
    const help = await exec(path.join(project, 'node_modules/.bin/synthesis-agent'), ['--help'], { cwd: project, timeout: 30_000 });
    expect(help.stdout).toMatch(/--port <value>/);
    expect(help.stdout).toContain('--claude-command');

    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SYNTHESIS_')));
    const refused = await exec(path.join(project, 'node_modules/.bin/synthesis-claude-plugin'), [], { cwd: project, env, timeout: 30_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/SYNTHESIS_WS_URL is required/);
  });

  it('serves a chat completion through the installed gateway and the installed claude-plugin, and the UI at /', async () => {
    const stateDir = path.join(work, 'state');
    const cacheDir = path.join(work, 'cache');
    const turnEndHook = realpathSync(path.join(installed('claude-plugin'), 'dist/turn-end-hook.js'));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SYNTHESIS_')));
    const child: ChildProcess = spawn(
      path.join(project, 'node_modules/.bin/synthesis-agent'),
      ['--claude-command', FAKE_CLAUDE, '--port', '0', '--bridge-port', '0', '--state-dir', stateDir, '--cache-dir', cacheDir, '--workspace', project, '--log-level', 'debug'],
      // The fake Claude keeps its transcripts under CLAUDE_CONFIG_DIR: inside the temp dir, not ~/.claude.
      { cwd: project, env: { ...env, CLAUDE_CONFIG_DIR: path.join(work, 'claude-config') }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const pid = track(child.pid);
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    const listeners = new Set<() => void>();
    const subscribe = (poll: () => void) => (listeners.add(poll), () => listeners.delete(poll));
    let exited: number | null | undefined;
    child.on('exit', (code) => {
      exited = code;
      for (const l of [...listeners]) l();
    });
    let buffer = '';
    child.stderr!.setEncoding('utf8').on('data', (data: string) => {
      stderr = (stderr + data).slice(-8000);
      buffer += data;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        try {
          lines.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
        } catch {
          // not a log line
        }
        buffer = buffer.slice(nl + 1);
      }
      for (const l of [...listeners]) l();
    });

    const ready = await waitFor(
      'the installed gateway to log its URLs',
      subscribe,
      () => {
        if (exited !== undefined) throw new Error(`gateway exited with ${exited}:\n${stderr}`);
        return lines.find((l) => typeof l.httpUrl === 'string');
      },
      30_000,
      () => stderr,
    );
    const httpUrl = ready.httpUrl as string;

    const response = await fetch(`${httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-openclaw-chat-id': 'packaging' },
      body: JSON.stringify({ model: 'claude-code', messages: [{ role: 'user', content: 'hello from the tarballs' }] }),
      signal: AbortSignal.timeout(30_000),
    });
    const completion = (await response.json()) as { choices?: { message: { content: string } }[] };
    expect(response.status, JSON.stringify(completion)).toBe(200);
    expect(completion.choices?.[0]?.message.content).toBe('echo: hello from the tarballs');

    // The session is still running: its generated --mcp-config names the plugin it launched.
    const runDir = path.join(stateDir, 'run');
    const configs = readdirSync(runDir).filter((f) => /^mcp-.*\.json$/.test(f));
    expect(configs).toHaveLength(1);
    const mcpConfig = JSON.parse(readFileSync(path.join(runDir, configs[0]!), 'utf8')) as {
      mcpServers: Record<string, { command: string; args: string[] }>;
    };
    const server = mcpConfig.mcpServers.synthesis!;
    // The plugin starts from the startup snapshot the installed gateway built at start
    // (docs/performance.md) from the installed plugin's dist/plugin-snapshot.cjs.
    const built = lines.find((l) => l.msg === 'claude-plugin startup snapshot built');
    expect(built, stderr).toBeDefined();
    const blob = built!.file as string;
    expect(path.dirname(blob)).toBe(cacheDir);
    expect(server.args).toEqual(['--snapshot-blob', blob]);
    const snapshotScript = realpathSync(path.join(installed('claude-plugin'), 'dist/plugin-snapshot.cjs'));
    expect(readFileSync(blob).includes(Buffer.from(path.dirname(snapshotScript)))).toBe(true);

    // And the processes agree: the running plugin is that snapshot, and the Claude it serves got
    // the installed Stop hook.
    const commands = descendants(pid).map(cmdline);
    expect(commands.some((argv) => argv.includes('--snapshot-blob') && argv.includes(blob))).toBe(true);
    expect(commands.some((argv) => argv.includes('--settings') && argv.some((a) => a.includes(turnEndHook)))).toBe(true);
    expect(commands.flat().some((a) => a.includes(path.join(ROOT, 'packages')))).toBe(false);

    const page = await fetch(`${httpUrl}/`, { signal: AbortSignal.timeout(10_000) });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const script = /<script[^>]+src="\/?(ui\/app-[\w-]+\.js)"/.exec(html)?.[1];
    expect(script, html).toBeDefined();
    const asset = await fetch(`${httpUrl}/${script}`, { signal: AbortSignal.timeout(10_000) });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);

    const tree = descendants(pid);
    child.kill('SIGTERM');
    await waitFor('the gateway to exit on SIGTERM', subscribe, () => (exited !== undefined ? true : undefined), 15_000, () => stderr);
    await waitForExit(tree, 60_000);
    started.delete(pid);
    expect(exited).toBe(0);
  }, 90_000);

  describe('the installed claude-plugin as a Claude Code plugin (real claude binary)', () => {
    let home: ClaudeHome;
    let claude: string;
    let pluginDir: string;

    beforeAll(() => {
      claude = realClaudeBinary();
      pluginDir = installed('claude-plugin');
      home = seedClaudeHome({ workspaces: [project], apiKey: 'sk-ant-packaging-test-0123456789abcdef' });
      scratch.push(home.root);
    });

    it('passes `claude plugin validate --strict`, loads with --plugin-dir and starts its MCP server', async () => {
      // These subcommands need no API; with ANTHROPIC_API_KEY set and no network, `mcp list` spends
      // ~19 s on a request that cannot succeed (measured with 2.1.330).
      const cliEnv: Record<string, string> = { ...home.env };
      delete cliEnv.ANTHROPIC_API_KEY;
      const manifest = JSON.parse(readFileSync(path.join(pluginDir, '.claude-plugin/plugin.json'), 'utf8')) as { name: string; version: string };
      const pkg = JSON.parse(readFileSync(path.join(pluginDir, 'package.json'), 'utf8')) as { version: string };
      expect(manifest.name).toBe(CLAUDE_PLUGIN_NAME);
      expect(manifest.version).toBe(pkg.version);

      const validate = await exec(claude, ['plugin', 'validate', '--strict', '--json', pluginDir], { cwd: project, env: cliEnv, timeout: 60_000 });
      const report = JSON.parse(validate.stdout) as { success: boolean; manifest: { errors: unknown[]; warnings: unknown[] }; provides: { mcpServers: { name: string }[] } };
      expect(report.success).toBe(true);
      expect(report.manifest.errors).toEqual([]);
      expect(report.manifest.warnings).toEqual([]);
      expect(report.provides.mcpServers.map((s) => s.name)).toEqual(['synthesis']);

      const list = await exec(claude, ['--plugin-dir', pluginDir, 'plugin', 'list', '--json'], { cwd: project, env: cliEnv, timeout: 60_000 });
      const plugins = JSON.parse(list.stdout) as { id: string; version: string; enabled: boolean; installPath: string }[];
      expect(plugins).toContainEqual(expect.objectContaining({ id: `${CLAUDE_PLUGIN_NAME}@inline`, version: pkg.version, enabled: true }));

      // The server takes its SYNTHESIS_* settings from Claude's own environment: with them the health
      // check connects, so Claude Code passed them through to the plugin-provided server.
      const bridge = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/bridge' });
      await new Promise((resolve) => bridge.once('listening', resolve));
      try {
        const { port } = bridge.address() as { port: number };
        const env = {
          ...cliEnv,
          SYNTHESIS_WS_URL: `ws://127.0.0.1:${port}/bridge`,
          SYNTHESIS_OPENCLAW_SESSION: 'packaging',
          SYNTHESIS_CLAUDE_SESSION: 'packaging-claude',
        };
        const mcp = await exec(claude, ['--plugin-dir', pluginDir, 'mcp', 'list'], { cwd: project, env, timeout: 60_000 });
        expect(mcp.stdout).toMatch(new RegExp(`plugin:${CLAUDE_PLUGIN_NAME}:synthesis: node \\S+/dist/bundle\\.js - ✔ Connected`));
      } finally {
        for (const client of bridge.clients) client.terminate();
        await new Promise((resolve) => bridge.close(resolve));
      }
    }, 120_000);

    it('delivers a channel message and takes the reply back when Claude Code loads it with --plugin-dir', async () => {
      let api: FakeAnthropic | undefined;
      let term: pty.IPty | undefined;
      const bridge = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/bridge' });
      try {
        await new Promise((resolve) => bridge.once('listening', resolve));
        api = await startFakeAnthropic();
        const frames: Record<string, unknown>[] = [];
        const listeners = new Set<() => void>();
        const subscribe = (poll: () => void) => (listeners.add(poll), () => listeners.delete(poll));
        const notify = () => {
          for (const l of [...listeners]) l();
        };
        bridge.on('connection', (socket) => {
          socket.on('message', (data) => {
            const frame = JSON.parse(String(data)) as Record<string, unknown>;
            frames.push(frame);
            if (frame.type === 'hello') socket.send(JSON.stringify({ type: 'hello_ack' }));
            if (frame.type === 'ready') {
              socket.send(JSON.stringify({ type: 'inbound', content: 'ping through the plugin', meta: { chat_id: 'c1', message_id: 'm1', ts: new Date().toISOString() } }));
            }
            notify();
          });
        });
        const { port } = bridge.address() as { port: number };
        const replyTool = `mcp__plugin_${CLAUDE_PLUGIN_NAME}_synthesis__reply`;
        term = pty.spawn(
          claude,
          ['--plugin-dir', pluginDir, '--dangerously-load-development-channels', `plugin:${CLAUDE_PLUGIN_NAME}@inline`, '--allowedTools', replyTool],
          {
            cols: 120,
            rows: 40,
            cwd: project,
            env: {
              ...home.env,
              ANTHROPIC_BASE_URL: api.url,
              SYNTHESIS_WS_URL: `ws://127.0.0.1:${port}/bridge`,
              SYNTHESIS_OPENCLAW_SESSION: 'packaging',
              SYNTHESIS_CLAUDE_SESSION: 'packaging-claude',
              SYNTHESIS_BRIDGE_TOKEN: 'packaging-token',
            },
          },
        );
        track(term.pid);
        let screen = '';
        let answered = false;
        let exitCode: number | undefined;
        term.onExit(({ exitCode: code }) => {
          exitCode = code;
          notify();
        });
        term.onData((data) => {
          screen = (screen + data).slice(-20_000);
          // The TUI draws with cursor moves instead of spaces: match the dialog with both stripped.
          if (!answered && /Iamusingthisforlocaldevelopment/.test(screen.replace(ANSI, '').replace(/\s+/g, ''))) {
            answered = true;
            term!.write('\r');
          }
          notify();
        });
        const tail = () => `screen tail:\n${screen.replace(ANSI, ' ').slice(-2000)}`;

        const reply = await waitFor(
          'the reply frame from the plugin-provided channel',
          subscribe,
          () => {
            if (exitCode !== undefined) throw new Error(`claude exited with ${exitCode}; ${tail()}`);
            return frames.find((f) => f.type === 'reply' && f.final !== false);
          },
          90_000,
          tail,
        );
        expect(reply.content).toBe('echo: ping through the plugin');
        expect(frames[0]).toMatchObject({ type: 'hello', openclaw_session: 'packaging', claude_session: 'packaging-claude', token: 'packaging-token' });
        const toolNames = api.requests.flatMap((r) => ((r.body?.tools ?? []) as { name: string }[]).map((t) => t.name));
        expect(toolNames).toContain(replyTool);
        const tags = api.requests.map((r) => JSON.stringify(r.body?.messages ?? [])).join('\n');
        expect(tags).toContain(`<channel source=\\"plugin:${CLAUDE_PLUGIN_NAME}:synthesis\\"`);
      } finally {
        if (term) await stopTree(term.pid);
        for (const client of bridge.clients) client.terminate();
        await new Promise((resolve) => bridge.close(resolve));
        await api?.close();
      }
    }, 150_000);
  });
});
