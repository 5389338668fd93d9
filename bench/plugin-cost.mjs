/**
 * Bench 4: what one claude-plugin process costs. For each build of the plugin (tsc output, esbuild
 * bundle) start it the way Claude Code does, with the env the gateway writes into --mcp-config,
 * against a bridge stub that acknowledges hellos, and measure:
 * - start to hello: spawn() until the hello frame arrives on the bridge;
 * - start to ready: until `ready`, i.e. after an MCP initialize + tools/list over stdio (the MCP
 *   SDK is loaded by then; SYNTHESIS_READY_DELAY_MS=0 so the settle delay is not counted);
 * - RSS and PSS once ready;
 * - CPU time used until hello and until ready: on a loaded machine wall time mostly measures the
 *   wait for a core, CPU time what the plugin itself costs.
 * A floor shows what any Node process pays: `node` with only `ws`, sending the same hello.
 * The Stop hook (once per turn, its own process; tsc output, as bundling it gains nothing: it
 * loads two small files) is measured the same way: spawn() until its POST /turn-end arrives.
 * Builds are interleaved run by run so a change in machine load hits them alike.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { cpuNs, pssBytes, reap, rssBytes } from './lib/proc.mjs';
import { mib, nsToMs, percentile, fmt, row } from './lib/stats.mjs';
import { ROOT } from './lib/gateway.mjs';

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

function pluginEnv(bridge, session) {
  return {
    ...process.env,
    SYNTHESIS_WS_URL: bridge.url,
    SYNTHESIS_OPENCLAW_SESSION: session,
    SYNTHESIS_CLAUDE_SESSION: '00000000-0000-4000-8000-000000000000',
    SYNTHESIS_BRIDGE_TOKEN: 'bench-token',
    SYNTHESIS_LOG_LEVEL: 'warn',
    SYNTHESIS_READY_DELAY_MS: '0',
  };
}

async function measurePlugin(args, bridge, session, mcp = true) {
  const hello = bridge.next(session, 'hello');
  const ready = mcp ? bridge.next(session, 'ready') : undefined;
  const t0 = process.hrtime.bigint();
  // cwd ROOT: where the floor script's `ws` import resolves.
  const child = spawn(process.execPath, args, { cwd: ROOT, env: pluginEnv(bridge, session), stdio: ['pipe', 'pipe', 'inherit'] });
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

async function measureHook(entry, bridge, session) {
  const turnEnd = bridge.next(session, 'turn_end');
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [entry], { env: pluginEnv(bridge, session), stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin.end(JSON.stringify({ session_id: session, hook_event_name: 'Stop' }));
  const exited = new Promise((resolve) => child.once('exit', () => resolve(process.hrtime.bigint())));
  const end = await turnEnd;
  return { turnEndMs: nsToMs(end.t - t0), exitMs: nsToMs((await exited) - t0) };
}

export async function run({ runs = 15, log = () => {} } = {}) {
  // Bundle what tsc just built, so both builds measured are the same code.
  execFileSync(process.execPath, [path.join(ROOT, 'packages/claude-plugin/scripts/bundle.mjs')], { stdio: 'inherit' });
  const builds = [
    { name: 'tsc output', plugin: path.join(DIST, 'main.js') },
    { name: 'esbuild bundle', plugin: path.join(DIST, 'bundle.js') },
  ];
  const bridge = await startBridgeStub();
  const results = new Map([...builds.map((b) => [b.name, []]), ['floor', []], ['hook', []]]);
  try {
    for (let i = 0; i < runs; i++) {
      for (const build of builds) results.get(build.name).push(await measurePlugin([build.plugin], bridge, `bench-${build.name}-${i}`));
      results.get('floor').push(await measurePlugin(['--input-type=module', '-e', FLOOR_SCRIPT], bridge, `bench-floor-${i}`, false));
      results.get('hook').push(await measureHook(path.join(DIST, 'turn-end-hook.js'), bridge, `bench-hook-${i}`));
      log(`plugin-cost: run ${i + 1}/${runs}`);
    }
  } finally {
    await bridge.close();
  }
  const rows = [];
  const med = (name, key) => percentile(results.get(name).map((x) => x[key]), 50);
  for (const { name } of builds) {
    rows.push(
      row(`plugin start → hello, p50 (${name})`, `${fmt(med(name, 'helloMs'), 0)} (CPU ${fmt(med(name, 'helloCpuMs'), 0)})`, 'ms', '< 150 ms', med(name, 'helloMs') < 150),
      row(`plugin start → ready, p50 (${name})`, `${fmt(med(name, 'readyMs'), 0)} (CPU ${fmt(med(name, 'readyCpuMs'), 0)})`, 'ms'),
      row(`plugin RSS when ready, p50 (${name})`, fmt(mib(med(name, 'rss')), 1), 'MiB', '< 45 MiB', mib(med(name, 'rss')) < 45),
      row(`plugin PSS when ready, p50 (${name})`, fmt(mib(med(name, 'pss')), 1), 'MiB'),
    );
  }
  rows.push(
    row('floor: node + ws start → hello, p50', `${fmt(med('floor', 'helloMs'), 0)} (CPU ${fmt(med('floor', 'helloCpuMs'), 0)})`, 'ms'),
    row('floor: node + ws RSS / PSS, p50', `${fmt(mib(med('floor', 'rss')), 1)} / ${fmt(mib(med('floor', 'pss')), 1)}`, 'MiB'),
    row('Stop hook start → turn_end received / exited, p50', `${fmt(med('hook', 'turnEndMs'), 0)} / ${fmt(med('hook', 'exitMs'), 0)}`, 'ms'),
  );
  return { rows, raw: Object.fromEntries(results) };
}
