/**
 * Bench 4: what one claude-plugin process costs. Start the plugin the way Claude Code does, against
 * a bridge stub that acknowledges hellos, in four forms: as the gateway launches it (the command,
 * args and env of the --mcp-config that `prepareLaunch` writes, over the env it gives Claude: from
 * the startup snapshot the gateway prepares, built here into a temp cache dir), as it launches it
 * when there is no snapshot (the bundle), and for comparison the bundle and the tsc output run by a
 * plain `node` in this shell's env.
 * Measure:
 * - start to hello: spawn() until the hello frame arrives on the bridge;
 * - start to ready: until `ready`, i.e. after an MCP initialize + tools/list over stdio (the MCP
 *   SDK is loaded by then; SYNTHESIS_READY_DELAY_MS=0 so the settle delay is not counted);
 * - RSS and PSS once ready;
 * - CPU time used until hello and until ready: on a loaded machine wall time mostly measures the
 *   wait for a core, CPU time what the plugin itself costs.
 * A floor shows what any Node process pays: `node` with only `ws`, sending the same hello, in the
 * launched env. The Stop hook (once per turn, its own process) runs as the shell command the
 * gateway puts in --settings: spawn() until its POST /turn-end arrives.
 * Builds are interleaved run by run so a change in machine load hits them alike.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { cpuNs, pssBytes, reap, rssBytes } from './lib/proc.mjs';
import { mib, nsToMs, percentile, fmt, row } from './lib/stats.mjs';
import { ROOT } from './lib/gateway.mjs';
import { pino } from 'pino';
import { CHANNEL_SERVER_NAME, prepareLaunch } from '../packages/openclaw-plugin/dist/claude-launch.js';
import { preparePluginSnapshot } from '../packages/openclaw-plugin/dist/plugin-snapshot.js';

const DIST = path.join(ROOT, 'packages/claude-plugin/dist');
const TIMEOUT_MS = 20_000;

/** The floor: a Node process that loads only `ws` and sends a hello. */
const FLOOR_SCRIPT = `import WebSocket from 'ws';
const ws = new WebSocket(process.env.SYNTHESIS_WS_URL);
ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', openclaw_session: process.env.SYNTHESIS_OPENCLAW_SESSION, pid: process.pid })));
process.stdin.on('end', () => process.exit(0)).resume();`;

const MCP_HANDSHAKE = [
  { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
];

/**
 * A bridge stub: acknowledges hellos, answers the Stop hook's POST /turn-end with 204, and routes
 * each message to whoever waits for (session, type).
 */
async function startBridgeStub() {
  const waiters = new Map();
  const arrived = (session, type, pid) => {
    // Read at once: the sender goes on running while the waiter is scheduled.
    const event = { t: process.hrtime.bigint(), cpu: pid === undefined ? undefined : cpuNs(pid) };
    waiters.get(`${session}/${type}`)?.(event);
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d) => (body += d));
    req.on('end', () => {
      res.writeHead(204).end();
      arrived(JSON.parse(body).openclaw_session, 'turn_end');
    });
  });
  const wss = new WebSocketServer({ server, path: '/bridge' });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.type === 'hello') {
        ws.pid = frame.pid;
        ws.session = frame.openclaw_session;
        ws.send(JSON.stringify({ type: 'hello_ack' }));
      }
      arrived(ws.session, frame.type, ws.pid);
    });
  });
  return {
    url: `ws://127.0.0.1:${server.address().port}/bridge`,
    /** Resolves with the hrtime at which `type` arrived from `session`, and the sender's CPU time then. */
    next(session, type) {
      return new Promise((resolve, reject) => {
        const key = `${session}/${type}`;
        const timer = setTimeout(() => reject(new Error(`no ${type} from ${session} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
        waiters.set(key, (event) => {
          clearTimeout(timer);
          waiters.delete(key);
          resolve(event);
        });
      });
    },
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Bench settings on top of any launch: quiet logs, and `ready` without the settle delay. */
const BENCH_ENV = { SYNTHESIS_LOG_LEVEL: 'warn', SYNTHESIS_READY_DELAY_MS: '0' };

/**
 * What the gateway has Claude run for `session`: the plugin's command line and env from the
 * --mcp-config it writes (Claude Code starts MCP servers with its own env plus the config's),
 * and the Stop hook's shell command from --settings.
 */
function launched(bridge, session, runDir, pluginSnapshot) {
  const prepared = prepareLaunch(
    { sessionKey: session, claudeSessionId: randomUUID(), resume: false, workspace: ROOT },
    { claudeCommand: 'claude', claudeArgs: [], bridgeUrl: bridge.url, runDir, trustWorkspaces: [], env: process.env, pluginSnapshot },
  );
  // The config file stays until runDir goes: the Stop hook reads the bridge token from it.
  const { args, env: claudeEnv } = prepared.launch;
  const server = JSON.parse(readFileSync(args[args.indexOf('--mcp-config') + 1], 'utf8')).mcpServers[CHANNEL_SERVER_NAME];
  const hook = JSON.parse(args[args.indexOf('--settings') + 1]).hooks.Stop[0].hooks[0].command;
  return { command: server.command, args: server.args, env: { ...claudeEnv, ...server.env, ...BENCH_ENV }, hook };
}

/** The same plugin env, but under this shell's env and a plain `node`: what the launch adds is left out. */
function plainEnv(launch) {
  const synthesis = Object.entries(launch.env).filter(([key]) => key.startsWith('SYNTHESIS_'));
  return { ...process.env, ...Object.fromEntries(synthesis) };
}

async function measurePlugin({ command, args, env }, bridge, session, mcp = true) {
  const hello = bridge.next(session, 'hello');
  const ready = mcp ? bridge.next(session, 'ready') : undefined;
  const t0 = process.hrtime.bigint();
  // cwd ROOT: where the floor script's `ws` import resolves.
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const h = await hello;
    const out = { helloMs: nsToMs(h.t - t0), helloCpuMs: nsToMs(h.cpu) };
    if (!ready) return { ...out, rss: rssBytes(child.pid), pss: pssBytes(child.pid) };
    child.stdout.resume();
    for (const message of MCP_HANDSHAKE) child.stdin.write(`${JSON.stringify(message)}\n`);
    const r = await ready;
    return { ...out, readyMs: nsToMs(r.t - t0), readyCpuMs: nsToMs(r.cpu), rss: rssBytes(child.pid), pss: pssBytes(child.pid) };
  } finally {
    // Closing stdin is how Claude Code stops its MCP servers.
    child.stdin.end();
    await reap([child.pid]);
  }
}

async function measureHook({ hook, env }, bridge, session) {
  const turnEnd = bridge.next(session, 'turn_end');
  const t0 = process.hrtime.bigint();
  // Claude Code runs hook commands through the shell, with its env.
  const child = spawn('/bin/sh', ['-c', hook], { env, stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin.end(JSON.stringify({ session_id: session, hook_event_name: 'Stop' }));
  const exited = new Promise((resolve) => child.once('exit', () => resolve(process.hrtime.bigint())));
  const end = await turnEnd;
  return { turnEndMs: nsToMs(end.t - t0), exitMs: nsToMs((await exited) - t0) };
}

export async function run({ runs = 15, log = () => {} } = {}) {
  // Bundle what tsc just built, so the builds measured are the same code.
  execFileSync(process.execPath, [path.join(ROOT, 'packages/claude-plugin/scripts/bundle.mjs')], { stdio: 'inherit' });
  const bridge = await startBridgeStub();
  const runDir = mkdtempSync(path.join(tmpdir(), 'synthesis-bench-run-'));
  const snapshot = await preparePluginSnapshot(path.join(runDir, 'cache'), pino({ level: 'warn' }, pino.destination(2)));
  if (!snapshot) throw new Error('plugin-cost: no startup snapshot (the warning above says why)');
  const builds = [
    { name: 'as launched', launch: (l) => l },
    { name: 'as launched without a snapshot: bundle', withoutSnapshot: true, launch: (l) => l },
    { name: 'bundle, plain node', launch: (l) => ({ command: process.execPath, args: [path.join(DIST, 'bundle.js')], env: plainEnv(l) }) },
    { name: 'tsc output, plain node', launch: (l) => ({ command: process.execPath, args: [path.join(DIST, 'main.js')], env: plainEnv(l) }) },
  ];
  const floor = (l) => ({ command: process.execPath, args: ['--input-type=module', '-e', FLOOR_SCRIPT], env: l.env });
  const results = new Map([...builds.map((b) => [b.name, []]), ['floor', []], ['hook', []]]);
  try {
    for (let i = 0; i < runs; i++) {
      for (const build of builds) {
        const session = `bench-${build.name}-${i}`;
        const launch = launched(bridge, session, runDir, build.withoutSnapshot ? undefined : snapshot);
        results.get(build.name).push(await measurePlugin(build.launch(launch), bridge, session));
      }
      const floorSession = `bench-floor-${i}`;
      results.get('floor').push(await measurePlugin(floor(launched(bridge, floorSession, runDir, snapshot)), bridge, floorSession, false));
      const hookSession = `bench-hook-${i}`;
      results.get('hook').push(await measureHook(launched(bridge, hookSession, runDir, snapshot), bridge, hookSession));
      log(`plugin-cost: run ${i + 1}/${runs}`);
    }
  } finally {
    await bridge.close();
    rmSync(runDir, { recursive: true, force: true });
  }
  const rows = [];
  const med = (name, key) => percentile(results.get(name).map((x) => x[key]), 50);
  // The targets are for what ships; the plain runs show what the bundle and the launch each add.
  const target = (name, text, met) => (name === builds[0].name ? [text, met] : []);
  for (const { name } of builds) {
    rows.push(
      row(`plugin start → hello, p50 (${name})`, `${fmt(med(name, 'helloMs'), 0)} (CPU ${fmt(med(name, 'helloCpuMs'), 0)})`, 'ms', ...target(name, '< 150 ms', med(name, 'helloMs') < 150)),
      row(`plugin start → ready, p50 (${name})`, `${fmt(med(name, 'readyMs'), 0)} (CPU ${fmt(med(name, 'readyCpuMs'), 0)})`, 'ms'),
      row(`plugin RSS when ready, p50 (${name})`, fmt(mib(med(name, 'rss')), 1), 'MiB', ...target(name, '< 45 MiB', mib(med(name, 'rss')) < 45)),
      row(`plugin PSS when ready, p50 (${name})`, fmt(mib(med(name, 'pss')), 1), 'MiB'),
    );
  }
  rows.push(
    row('floor: node + ws start → hello, p50 (launched env)', `${fmt(med('floor', 'helloMs'), 0)} (CPU ${fmt(med('floor', 'helloCpuMs'), 0)})`, 'ms'),
    row('floor: node + ws RSS / PSS, p50 (launched env)', `${fmt(mib(med('floor', 'rss')), 1)} / ${fmt(mib(med('floor', 'pss')), 1)}`, 'MiB'),
    row('Stop hook (as launched) start → turn_end received / exited, p50', `${fmt(med('hook', 'turnEndMs'), 0)} / ${fmt(med('hook', 'exitMs'), 0)}`, 'ms'),
  );
  return { rows, raw: Object.fromEntries(results) };
}
