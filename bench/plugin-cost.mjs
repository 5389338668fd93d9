/**
 * Bench 4: what one claude-plugin process costs. For each build of the plugin (tsc output, esbuild
 * bundle) start it the way Claude Code does, with the env the gateway writes into --mcp-config,
 * against a bridge stub that acknowledges hellos, and measure:
 * - start to hello: spawn() until the hello frame arrives on the bridge;
 * - start to ready: until `ready`, i.e. after an MCP initialize + tools/list over stdio (the MCP
 *   SDK is loaded by then; SYNTHESIS_READY_DELAY_MS=0 so the settle delay is not counted);
 * - RSS and PSS once ready.
 * The Stop hook (once per turn) is measured the same way: spawn() until its turn_end arrives.
 * Builds are interleaved run by run so a change in machine load hits them alike.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { pssBytes, rssBytes, waitForExit, killQuietly } from './lib/proc.mjs';
import { mib, nsToMs, percentile, fmt, row } from './lib/stats.mjs';
import { ROOT } from './lib/gateway.mjs';

const DIST = path.join(ROOT, 'packages/claude-plugin/dist');
const TIMEOUT_MS = 20_000;

const MCP_HANDSHAKE = [
  { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
];

/** A bridge stub: routes each frame to whoever waits for (session, type). */
async function startBridgeStub() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/bridge' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const waiters = new Map();
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      const now = process.hrtime.bigint();
      if (frame.type === 'hello') {
        ws.session = frame.openclaw_session;
        ws.send(JSON.stringify({ type: 'hello_ack' }));
      }
      const session = frame.openclaw_session ?? ws.session;
      if (frame.type === 'turn_end') ws.close(1000, 'turn_end received');
      waiters.get(`${session}/${frame.type}`)?.(now);
    });
  });
  return {
    url: `ws://127.0.0.1:${wss.address().port}/bridge`,
    /** Resolves with the hrtime at which `type` arrived from `session`. */
    next(session, type) {
      return new Promise((resolve, reject) => {
        const key = `${session}/${type}`;
        const timer = setTimeout(() => reject(new Error(`no ${type} from ${session} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
        waiters.set(key, (t) => {
          clearTimeout(timer);
          waiters.delete(key);
          resolve(t);
        });
      });
    },
    close: () => new Promise((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
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

async function measurePlugin(entry, bridge, session) {
  const hello = bridge.next(session, 'hello');
  const ready = bridge.next(session, 'ready');
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [entry], { env: pluginEnv(bridge, session), stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const tHello = await hello;
    child.stdout.resume();
    for (const message of MCP_HANDSHAKE) child.stdin.write(`${JSON.stringify(message)}\n`);
    const tReady = await ready;
    return { helloMs: nsToMs(tHello - t0), readyMs: nsToMs(tReady - t0), rss: rssBytes(child.pid), pss: pssBytes(child.pid) };
  } finally {
    // Closing stdin is how Claude Code stops its MCP servers.
    child.stdin.end();
    if ((await waitForExit([child.pid], 5000)).length) killQuietly(child.pid);
  }
}

async function measureHook(entry, bridge, session) {
  const turnEnd = bridge.next(session, 'turn_end');
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [entry], { env: pluginEnv(bridge, session), stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin.end(JSON.stringify({ session_id: session, hook_event_name: 'Stop' }));
  const exited = new Promise((resolve) => child.once('exit', () => resolve(process.hrtime.bigint())));
  const tEnd = await turnEnd;
  return { turnEndMs: nsToMs(tEnd - t0), exitMs: nsToMs((await exited) - t0) };
}

export async function run({ runs = 15, log = () => {} } = {}) {
  const builds = [
    { name: 'tsc', plugin: path.join(DIST, 'main.js'), hook: path.join(DIST, 'turn-end-hook.js') },
    { name: 'bundle', plugin: path.join(DIST, 'bundle.js'), hook: path.join(DIST, 'turn-end-hook.bundle.js') },
  ].filter((b) => existsSync(b.plugin) && existsSync(b.hook));
  const bridge = await startBridgeStub();
  const results = new Map(builds.map((b) => [b.name, []]));
  try {
    for (let i = 0; i < runs; i++) {
      for (const build of builds) {
        const session = `bench-${build.name}-${i}`;
        const plugin = await measurePlugin(build.plugin, bridge, session);
        const hook = await measureHook(build.hook, bridge, `${session}-hook`);
        results.get(build.name).push({ ...plugin, ...hook });
      }
      log(`plugin-cost: run ${i + 1}/${runs}`);
    }
  } finally {
    await bridge.close();
  }
  const rows = [];
  for (const build of builds) {
    const r = results.get(build.name);
    const med = (key) => percentile(r.map((x) => x[key]), 50);
    const label = build.name === 'tsc' ? 'tsc output' : 'esbuild bundle';
    rows.push(
      row(`plugin start → hello, p50 (${label})`, fmt(med('helloMs'), 0), 'ms', '< 150 ms', med('helloMs') < 150),
      row(`plugin start → ready, p50 (${label})`, fmt(med('readyMs'), 0), 'ms'),
      row(`plugin RSS when ready, p50 (${label})`, fmt(mib(med('rss')), 1), 'MiB', '< 45 MiB', mib(med('rss')) < 45),
      row(`plugin PSS when ready, p50 (${label})`, fmt(mib(med('pss')), 1), 'MiB'),
      row(`Stop hook start → turn_end, p50 (${label})`, fmt(med('turnEndMs'), 0), 'ms'),
    );
  }
  return { rows, raw: Object.fromEntries(results) };
}
