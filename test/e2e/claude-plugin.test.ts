/**
 * The claude-plugin end to end: a real `ws` server plays the gateway, fake-claude (in a
 * pseudo-terminal, as the gateway runs it) spawns the built plugin from an --mcp-config. Every
 * behaviour is checked on each form the plugin ships in: the tsc output, the esbuild bundle, and
 * the startup snapshot the gateway launches (plugin-snapshot.ts), built here into a temp cache
 * dir. Needs `npm run build` first.
 */
import { EventEmitter } from 'node:events';
import { waitUntil } from '../fixtures/wait.js';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pty from '@lydell/node-pty';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  PluginToGatewaySchema,
  parseFrame,
  type GatewayToPlugin,
  type PluginToGateway,
} from '@synthesis-agent/protocol';
import { execa } from 'execa';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { PLUGIN_NODE_ENV } from '../../packages/openclaw-plugin/src/claude-launch.js';
import { preparePluginSnapshot } from '../../packages/openclaw-plugin/src/plugin-snapshot.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLUGIN_MAIN = join(ROOT, 'packages/claude-plugin/dist/main.js');
const PLUGIN_BUNDLE = join(ROOT, 'packages/claude-plugin/dist/bundle.js');
const PLUGIN_VERSION = (JSON.parse(readFileSync(join(ROOT, 'packages/claude-plugin/package.json'), 'utf8')) as { version: string }).version;
const FAKE_CLAUDE_MAIN = join(ROOT, 'test/fixtures/dist/fake-claude/main.js');
const WAIT_MS = 10_000;

/** How the plugin is started: node arguments and the env its launcher adds. */
interface PluginForm {
  name: string;
  args(): string[];
  env: Record<string, string>;
}

let cacheDir: string;
let snapshot: string | undefined;

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'claude-plugin-cache-'));
  const warnings: string[] = [];
  snapshot = await preparePluginSnapshot(cacheDir, pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }));
  if (!snapshot) throw new Error(`could not build the plugin's startup snapshot:\n${warnings.join('')}`);
}, 60_000);
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const FORMS: PluginForm[] = [
  { name: 'tsc output', args: () => [PLUGIN_MAIN], env: {} },
  // What the gateway launches without a snapshot, and what the Claude Code plugin form (.mcp.json) runs.
  { name: 'bundle', args: () => [PLUGIN_BUNDLE], env: PLUGIN_NODE_ENV },
  { name: 'startup snapshot', args: () => ['--snapshot-blob', snapshot!], env: PLUGIN_NODE_ENV },
];

/** Resolves when `check` returns a value, rejects after `timeoutMs`; `check` runs on every event. */
/** State changes that tests wait on: `notify` after each change, `until` resolves on the first match. */
class Waiters {
  private readonly changes = new EventEmitter().setMaxListeners(0);

  notify(): void {
    this.changes.emit('change');
  }

  until<T>(what: string, check: () => T | undefined, timeoutMs = WAIT_MS): Promise<T> {
    return waitUntil(this.changes, 'change', check, what, timeoutMs);
  }
}

/** One plugin connection as the gateway sees it: every frame it sent, parsed with the shared schema. */
class Connection {
  readonly frames: PluginToGateway[] = [];
  readonly invalid: string[] = [];
  closed = false;
  private cursor = 0;

  constructor(
    readonly socket: WebSocket,
    private readonly waiters: Waiters,
  ) {
    socket.on('message', (data) => {
      const parsed = parseFrame(PluginToGatewaySchema, data.toString());
      if (parsed.ok) this.frames.push(parsed.value);
      else this.invalid.push(data.toString());
      waiters.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      waiters.notify();
    });
  }

  send(frame: GatewayToPlugin | string): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame of `type` after the last one taken, so each test step reads only new frames. */
  next<T extends PluginToGateway['type']>(type: T): Promise<Extract<PluginToGateway, { type: T }>> {
    return this.waiters.until(`a "${type}" frame`, () => {
      const index = this.frames.findIndex((frame, i) => i >= this.cursor && frame.type === type);
      if (index < 0) return undefined;
      this.cursor = index + 1;
      return this.frames[index] as Extract<PluginToGateway, { type: T }>;
    });
  }

  whenClosed(): Promise<true> {
    return this.waiters.until('the plugin to close its socket', () => (this.closed ? true : undefined));
  }
}

/** Stands in for the gateway's /bridge endpoint. */
class TestGateway {
  readonly connections: Connection[] = [];
  /** When false, hello is not acknowledged, so the plugin stays "not connected". */
  ackHello = true;
  private readonly waiters = new Waiters();

  private constructor(private readonly wss: WebSocketServer) {
    wss.on('connection', (socket) => {
      const connection = new Connection(socket, this.waiters);
      this.connections.push(connection);
      socket.once('message', () => {
        if (this.ackHello) connection.send({ type: 'hello_ack' });
      });
      this.waiters.notify();
    });
  }

  static async start(): Promise<TestGateway> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/bridge' });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    return new TestGateway(wss);
  }

  get url(): string {
    const address = this.wss.address();
    if (!address || typeof address === 'string') throw new Error('gateway is not listening on TCP');
    return `ws://127.0.0.1:${address.port}/bridge`;
  }

  connection(index: number): Promise<Connection> {
    return this.waiters.until(`plugin connection #${index + 1}`, () => this.connections[index]);
  }

  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

interface FakeClaude {
  proc: pty.IPty;
  sessionId: string;
  configDir: string;
  output(): string;
  waitForOutput(pattern: RegExp): Promise<string>;
  /** Waits until `count` turns are complete; only then does the next message start a new turn. */
  turnsEnded(count: number): Promise<void>;
  transcript(): { messages: string[]; violations: string[]; toolErrors: string[]; systemPrompt?: string };
  exited: Promise<number>;
}

const TOKEN = 'test-bridge-token';
const TURN_COMPLETE = '✻ Turn complete';
const OPENCLAW_SESSION = 'developer::discord:channel:123';

interface LaunchOptions {
  /** Resume this session instead of starting a new one. */
  resume?: string;
  extraArgs?: string[];
}

function launchFakeClaude(plugin: PluginForm, workDir: string, gatewayUrl: string, options: LaunchOptions = {}): FakeClaude {
  const sessionId = options.resume ?? randomUUID();
  const configDir = join(workDir, 'claude-config');
  const mcpConfig = join(workDir, 'mcp.json');
  writeFileSync(
    mcpConfig,
    JSON.stringify({
      mcpServers: {
        synthesis: {
          command: process.execPath,
          args: plugin.args(),
          env: {
            ...plugin.env,
            SYNTHESIS_WS_URL: gatewayUrl,
            SYNTHESIS_OPENCLAW_SESSION: OPENCLAW_SESSION,
            SYNTHESIS_CLAUDE_SESSION: sessionId,
            SYNTHESIS_BRIDGE_TOKEN: TOKEN,
            SYNTHESIS_READY_DELAY_MS: '50',
            SYNTHESIS_LOG_LEVEL: 'debug',
          },
        },
      },
    }),
  );
  const args = [
    FAKE_CLAUDE_MAIN,
    '--mcp-config',
    mcpConfig,
    '--dangerously-load-development-channels',
    'server:synthesis',
    '--allowedTools',
    'mcp__synthesis__reply',
    options.resume ? '--resume' : '--session-id',
    sessionId,
    ...(options.extraArgs ?? []),
  ];
  const proc = pty.spawn(process.execPath, args, {
    cols: 120,
    rows: 40,
    cwd: workDir,
    env: { ...process.env, CLAUDE_CONFIG_DIR: configDir } as Record<string, string>,
  });
  const waiters = new Waiters();
  let output = '';
  proc.onData((data) => {
    output += data;
    waiters.notify();
  });
  const exited = new Promise<number>((resolve) => proc.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    proc,
    sessionId,
    configDir,
    output: () => output,
    waitForOutput: (pattern) => waiters.until(`terminal output ${pattern}`, () => pattern.exec(output)?.[0]),
    turnsEnded: async (count) => {
      await waiters.until(`${count} turn end(s)`, () => (output.split(TURN_COMPLETE).length > count ? true : undefined));
    },
    transcript: () => JSON.parse(readFileSync(join(configDir, 'fake-claude', `${sessionId}.json`), 'utf8')),
    exited,
  };
}

/** What a failed test needs to be understood: the terminal, the plugin's log, the frames. */
function describeFailure(claude: FakeClaude, gateway: TestGateway): string {
  const log = join(claude.configDir, 'fake-claude', `${claude.sessionId}.mcp-synthesis.log`);
  const pluginLog = existsSync(log) ? readFileSync(log, 'utf8') : '(no plugin log)';
  const frames = gateway.connections.map((c, i) => `#${i + 1}: ${JSON.stringify(c.frames)}`).join('\n');
  return `--- terminal\n${claude.output()}\n--- plugin log\n${pluginLog}\n--- frames\n${frames}`;
}

/** A zombie counts as gone: in a container nobody may reap an orphan, but it holds no socket. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

function killIfAlive(pid: number | undefined): void {
  if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
}

const inbound = (content: string, id = randomUUID()): GatewayToPlugin => ({
  type: 'inbound',
  content,
  meta: { chat_id: 'chat-1', message_id: id, ts: new Date().toISOString() },
});

describe.each(FORMS)('claude-plugin with fake-claude ($name)', (plugin) => {
  let workDir: string;
  let gateway: TestGateway;
  let claude: FakeClaude | undefined;
  let pluginPid: number | undefined;
  /** Every process a test started, killed by pid afterwards whatever the test did. */
  let pids: number[];

  beforeEach(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'claude-plugin-e2e-'));
    gateway = await TestGateway.start();
    pids = [];
  });

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail' && claude) console.error(describeFailure(claude, gateway));
    pids.forEach(killIfAlive);
    claude = undefined;
    pluginPid = undefined;
    await gateway.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** Launches fake-claude, accepts the dialog, and returns the plugin's connection once it said hello. */
  async function startSession(options: LaunchOptions = {}): Promise<Connection> {
    const index = gateway.connections.length;
    claude = launchFakeClaude(plugin, workDir, gateway.url, options);
    pids.push(claude.proc.pid);
    await claude.waitForOutput(/I am using this for local development/);
    claude.proc.write('\r');
    const connection = await gateway.connection(index);
    const hello = await connection.next('hello');
    pluginPid = hello.pid;
    pids.push(pluginPid);
    await claude.waitForOutput(/channel server:synthesis connected/);
    return connection;
  }

  it('says hello with its pid, sessions and token, then ready once tools are listed', async () => {
    const connection = await startSession();
    expect(connection.frames[0]).toEqual({
      type: 'hello',
      openclaw_session: OPENCLAW_SESSION,
      claude_session: claude!.sessionId,
      pid: pluginPid,
      token: TOKEN,
    });
    expect(pluginPid).not.toBe(claude!.proc.pid);
    await connection.next('ready');
  });

  it('relays messages, progress chunks, pings and permission requests in one session', async () => {
    const connection = await startSession({ extraArgs: ['--append-system-prompt', 'be brief'] });
    await connection.next('ready');

    connection.send(inbound('hello there'));
    expect(await connection.next('reply')).toEqual({ type: 'reply', content: 'echo: hello there', final: true });
    await claude!.turnsEnded(1);

    connection.send(inbound('[[chunks:2]]'));
    const replies = [await connection.next('reply'), await connection.next('reply'), await connection.next('reply')];
    expect(replies.map((r) => [r.content, r.final])).toEqual([
      ['chunk 1 ', false],
      ['chunk 2 ', false],
      ['done', true],
    ]);
    await claude!.turnsEnded(2);

    connection.send({ type: 'ping' });
    await connection.next('pong');

    connection.send(inbound('[[permission:Bash]]'));
    const request = await connection.next('permission_request');
    expect(request).toMatchObject({ tool_name: 'Bash', request_id: expect.stringMatching(/^[a-z]{5}$/) });
    connection.send({ type: 'permission', request_id: request.request_id, behavior: 'deny' });
    expect(await connection.next('reply')).toMatchObject({ content: 'permission deny for Bash', final: true });

    expect(claude!.transcript()).toMatchObject({
      systemPrompt: 'be brief',
      messages: ['hello there', '[[chunks:2]]', '[[permission:Bash]]'],
      violations: [],
    });
  });

  it('answers frames that break the protocol with typed errors and stays connected', async () => {
    const connection = await startSession();
    connection.send('not json');
    expect(await connection.next('error')).toMatchObject({ code: 'invalid_json' });
    connection.send(JSON.stringify({ type: 'inbound', content: 42 }));
    expect(await connection.next('error')).toMatchObject({ code: 'invalid_message' });
    connection.send(JSON.stringify({ type: 'launch_missiles' }));
    expect(await connection.next('error')).toMatchObject({ code: 'invalid_message' });

    connection.send(inbound('still here?'));
    expect(await connection.next('reply')).toMatchObject({ content: 'echo: still here?' });
    expect(connection.closed).toBe(false);
  });

  it('lets fake-claude flag a message that arrives mid-turn', async () => {
    const connection = await startSession();
    await connection.next('ready');
    connection.send(inbound('[[slow:400]] first'));
    connection.send(inbound('second'));
    expect(await connection.next('reply')).toMatchObject({ content: 'echo: [[slow:400]] first' });
    await claude!.waitForOutput(/A message arrived while you were working/);
    expect(claude!.transcript()).toMatchObject({ messages: ['[[slow:400]] first'], violations: ['second'] });
  });

  it('refuses a reply while disconnected, then reconnects with hello and ready', async () => {
    const first = await startSession();
    await first.next('ready');

    gateway.ackHello = false;
    first.send(inbound('[[slow:300]] are you there'));
    first.socket.close(1012, 'gateway restarting');
    const second = await gateway.connection(1);
    expect(await second.next('hello')).toMatchObject({ pid: pluginPid, claude_session: claude!.sessionId });

    await claude!.waitForOutput(/reply failed: .*NOT delivered/);
    await claude!.turnsEnded(1);
    expect(claude!.transcript().toolErrors).toEqual([expect.stringMatching(/gateway is not connected/)]);

    second.send({ type: 'hello_ack' });
    await second.next('ready');
    second.send(inbound('back again'));
    expect(await second.next('reply')).toMatchObject({ content: 'echo: back again', final: true });
  });

  it('exits when its Claude process is killed, leaving no orphan', async () => {
    const connection = await startSession();
    await connection.next('ready');
    claude!.proc.kill('SIGKILL');
    await claude!.exited;
    await connection.whenClosed();
    await vi.waitFor(() => expect(isAlive(pluginPid!)).toBe(false), { timeout: WAIT_MS, interval: 50 });
  });

  it('fake-claude: [[crash]] dies mid-turn, the plugin follows, and --resume keeps the history', async () => {
    const first = await startSession();
    await first.next('ready');
    first.send(inbound('first'));
    await first.next('reply');
    await claude!.turnsEnded(1);
    first.send(inbound('[[crash]]'));
    expect(await first.next('reply')).toEqual({ type: 'reply', content: 'chunk 1 ', final: false });
    expect(await claude!.exited).toBe(1);
    await first.whenClosed();
    const crashedPluginPid = pluginPid!;
    await vi.waitFor(() => expect(isAlive(crashedPluginPid)).toBe(false), { timeout: WAIT_MS, interval: 50 });

    const { sessionId } = claude!;
    const reused = await execa(process.execPath, [FAKE_CLAUDE_MAIN, '--session-id', sessionId], {
      env: { CLAUDE_CONFIG_DIR: claude!.configDir },
      reject: false,
      timeout: WAIT_MS,
    });
    expect(reused.exitCode).toBe(1);
    expect(reused.stderr).toContain(`Error: Session ID ${sessionId} is already in use.`);

    const resumed = await startSession({ resume: sessionId });
    await resumed.next('ready');
    resumed.send(inbound('[[history]]'));
    expect(await resumed.next('reply')).toMatchObject({ content: 'history:\nfirst\n[[crash]]', final: true });
  });

  it('fake-claude: [[kill-plugin]] kills only the channel server', async () => {
    const connection = await startSession();
    await connection.next('ready');
    connection.send(inbound('[[kill-plugin]]'));
    await connection.whenClosed();
    await claude!.waitForOutput(/channel server:synthesis disconnected/);
    expect(isAlive(pluginPid!)).toBe(false);
    expect(isAlive(claude!.proc.pid)).toBe(true);
  });
});

describe.each(FORMS)('claude-plugin over plain stdio ($name)', (plugin) => {
  it('declares the channel, lists reply, and refuses bad or undeliverable replies as tool errors', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: plugin.args(),
      // Nothing listens on port 1, so the bridge never connects.
      env: {
        ...plugin.env,
        SYNTHESIS_WS_URL: 'ws://127.0.0.1:1/bridge',
        SYNTHESIS_OPENCLAW_SESSION: 's',
        SYNTHESIS_CLAUDE_SESSION: 'c',
        SYNTHESIS_LOG_LEVEL: 'silent',
      },
    });
    const client = new Client({ name: 'test', version: '1' });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()).toEqual({ name: 'synthesis', version: PLUGIN_VERSION });
      expect(client.getServerCapabilities()?.experimental).toEqual({
        'claude/channel': {},
        'claude/channel/permission': {},
      });
      expect(client.getInstructions()).toMatch(/ONLY what you send with the reply tool/);
      const { tools } = await client.listTools();
      expect(tools.map((tool) => [tool.name, tool.inputSchema.required])).toEqual([['reply', ['text']]]);

      const call = (args: Record<string, unknown>) => client.callTool({ name: 'reply', arguments: args });
      expect(await call({ text: 7 })).toMatchObject({
        isError: true,
        content: [{ text: expect.stringMatching(/^Invalid arguments for reply: text: .*expected string/) }],
      });
      expect(await call({ text: 'hi', final: 'yes' })).toMatchObject({
        isError: true,
        content: [{ text: expect.stringMatching(/final: .*expected boolean/) }],
      });
      expect(await call({ text: 'hi' })).toMatchObject({
        isError: true,
        content: [{ text: expect.stringMatching(/NOT delivered: the SynthesisAgent gateway is not connected/) }],
      });
    } finally {
      const pid = transport.pid ?? undefined;
      await client.close();
      killIfAlive(pid);
    }
  });
});

describe.each(FORMS)('claude-plugin start-up checks ($name)', (plugin) => {
  it('exits 1 with one clear line when required env is missing', async () => {
    const result = await execa(process.execPath, plugin.args(), {
      env: { ...plugin.env, SYNTHESIS_WS_URL: 'http://127.0.0.1:1/bridge', SYNTHESIS_OPENCLAW_SESSION: 's' },
      extendEnv: false,
      reject: false,
      timeout: WAIT_MS,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'synthesis-claude-plugin: SYNTHESIS_WS_URL must be a ws:// URL (the gateway bridge, on loopback); SYNTHESIS_CLAUDE_SESSION is required',
    ]);
  });
});

describe('fake-claude command line', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [FAKE_CLAUDE_MAIN, ...args], { env, reject: false, timeout: WAIT_MS });

  it('prints its version and refuses unknown flags like the real CLI', async () => {
    expect((await run(['--version'])).stdout).toBe('2.1.330 (Claude Code)');
    const unknown = await run(['--frobnicate']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain("error: unknown option '--frobnicate'");
  });

  it('refuses to resume a session that does not exist', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'fake-claude-'));
    try {
      const id = randomUUID();
      const result = await run(['--resume', id], { CLAUDE_CONFIG_DIR: configDir });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`No conversation found with session ID: ${id}`);
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  });
});
