/**
 * Bench 2: the REAL `claude` binary (the pinned devDependency) against the fake Anthropic API
 * (test/fixtures/fake-anthropic), time to first content byte at the client:
 * - cold: the first turn of a new session (Claude spawn, development-channels dialog, MCP start,
 *   model call);
 * - warm: later turns of a running session, one after another as a person would send them (after
 *   the previous answer, `paceMs` apart), and back to back (sent the moment the previous answer
 *   ended, so it also waits for Claude to finish that turn);
 * - peer: the same binary and fake API behind claude-max-api-proxy (npm), which runs
 *   `claude --print` per request. It is installed into a temp dir by this script, never as a
 *   dependency of the product.
 * A warm turn is also split at the moment the fake model is asked for the reply: before it the
 * gateway, the plugin and Claude Code preparing its request; after it Claude Code running the
 * reply tool, the plugin, the gateway and SSE.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGateway, ROOT } from './lib/gateway.mjs';
import { descendants, reap } from './lib/proc.mjs';
import { streamTurn } from './lib/sse.mjs';
import { fmt, nsToMs, row, summary } from './lib/stats.mjs';
import { importTestHelper } from './lib/ts-helpers.mjs';

const PEER = 'claude-max-api-proxy@1.0.0';
const API_KEY = 'sk-ant-bench-00000000000000000000000000';

/** Installs the peer once per machine into the temp dir; later runs reuse it. */
function installPeer(log) {
  const prefix = path.join(tmpdir(), `synthesis-bench-${PEER.replace(/[@/]/g, '_')}`);
  const entry = path.join(prefix, 'node_modules/claude-max-api-proxy/dist/server/standalone.js');
  if (!existsSync(entry)) {
    log(`warm-cold: installing ${PEER} into ${prefix}`);
    mkdirSync(prefix, { recursive: true });
    execFileSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', PEER], { stdio: 'ignore' });
  }
  return entry;
}

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

async function startPeer(entry, env, cwd) {
  const port = await freePort();
  const child = spawn(process.execPath, [entry, String(port)], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.resume();
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${PEER} did not start:\n${out}`)), 60_000);
    child.stdout.on('data', () => {
      if (out.includes('Server ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${PEER} exited (${code}):\n${out}`)));
  });
  await ready;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      const tree = descendants(child.pid);
      child.kill('SIGTERM');
      await reap([child.pid, ...tree]);
    },
  };
}

async function turn(url, content, headers) {
  const result = await streamTurn(url, { content, headers });
  if (result.error || !result.firstContent) throw new Error(`turn "${content}" failed: ${JSON.stringify(result.error ?? result)}`);
  return result;
}

const firstByte = async (url, content, headers) => {
  const result = await turn(url, content, headers);
  return nsToMs(result.firstContent - result.sent);
};

export async function run({ cold = 3, warm = 10, peer = 5, paceMs = 1500, log = () => {} } = {}) {
  const [{ startFakeAnthropic }, { seedClaudeHome }, { realClaudeBinary }] = await Promise.all([
    import(path.join(ROOT, 'test/fixtures/dist/fake-anthropic/server.js')),
    importTestHelper('test/helpers/claude-home.ts'),
    importTestHelper('test/helpers/real-claude.ts'),
  ]);
  const claude = realClaudeBinary();
  const peerEntry = installPeer(log);
  const modelCalled = new Map();
  const fake = await startFakeAnthropic({
    record: false,
    answer: (message) => {
      modelCalled.set(message.content, process.hrtime.bigint());
      return `echo: ${message.content}`;
    },
  });
  const workspace = mkdtempSync(path.join(tmpdir(), 'synthesis-bench-ws-'));
  const home = seedClaudeHome({ workspaces: [workspace], apiKey: API_KEY, baseUrl: fake.url });
  // The peer finds `claude` on PATH, as its README asks.
  const bin = path.join(home.root, 'bin');
  mkdirSync(bin);
  symlinkSync(claude, path.join(bin, 'claude'));

  const coldMs = [];
  const warmMs = [];
  const beforeModelMs = [];
  const afterModelMs = [];
  const backToBackMs = [];
  const peerMs = [];
  let gateway;
  let proxy;
  try {
    gateway = await startGateway({
      claudeCommand: claude,
      env: { ...home.env, PATH: `${bin}:${home.env.PATH}` },
      args: ['--workspace', workspace, '--start-timeout-ms', '120000', '--turn-timeout-ms', '120000'],
      readyTimeoutMs: 60_000,
    });
    for (let s = 0; s < cold; s++) {
      coldMs.push(await firstByte(gateway.httpUrl, `cold ${s}`, { 'X-Openclaw-Chat-Id': `cold-${s}` }));
      log(`warm-cold: cold turn ${s + 1}/${cold}: ${fmt(coldMs.at(-1), 0)} ms`);
    }
    const headers = { 'X-Openclaw-Chat-Id': 'cold-0' };
    for (let t = 0; t < warm; t++) {
      // A person reads the answer before writing again; the pause lets Claude finish its turn.
      await new Promise((r) => setTimeout(r, paceMs));
      const content = `warm ${t}`;
      const result = await turn(gateway.httpUrl, content, headers);
      warmMs.push(nsToMs(result.firstContent - result.sent));
      beforeModelMs.push(nsToMs(modelCalled.get(content) - result.sent));
      afterModelMs.push(nsToMs(result.firstContent - modelCalled.get(content)));
    }
    for (let t = 0; t < warm; t++) backToBackMs.push(await firstByte(gateway.httpUrl, `back to back ${t}`, headers));
    log(`warm-cold: ${warm} warm turns paced, ${warm} back to back`);

    proxy = await startPeer(peerEntry, { ...home.env, PATH: `${bin}:${home.env.PATH}` }, workspace);
    for (let t = 0; t < peer; t++) {
      peerMs.push(await firstByte(proxy.url, `peer ${t}`, {}));
      log(`warm-cold: peer turn ${t + 1}/${peer}: ${fmt(peerMs.at(-1), 0)} ms`);
    }
  } finally {
    await proxy?.stop();
    const survivors = (await gateway?.stop()) ?? [];
    if (survivors.length) log(`warm-cold: had to kill ${survivors.length} leftover process(es)`);
    await fake.close();
    home.cleanup();
    rmSync(workspace, { recursive: true, force: true });
  }
  const c = summary(coldMs);
  const w = summary(warmMs);
  const b = summary(backToBackMs);
  const before = summary(beforeModelMs);
  const after = summary(afterModelMs);
  const p = summary(peerMs);
  const ratio = w.p50 / p.p50;
  return {
    rows: [
      row(`real claude: cold first turn TTFB, p50 / max (${c.n})`, `${fmt(c.p50, 0)} / ${fmt(c.max, 0)}`, 'ms'),
      row(`real claude: warm turn TTFB, p50 / max (${w.n}, ${paceMs} ms apart)`, `${fmt(w.p50, 0)} / ${fmt(w.max, 0)}`, 'ms'),
      row('  of which request → model call / model call → first byte, p50', `${fmt(before.p50, 0)} / ${fmt(after.p50, 0)}`, 'ms'),
      row(`real claude: warm turn TTFB back to back, p50 / max (${b.n})`, `${fmt(b.p50, 0)} / ${fmt(b.max, 0)}`, 'ms'),
      row(`peer ${PEER} (claude --print per request) TTFB, p50 / max (${p.n})`, `${fmt(p.p50, 0)} / ${fmt(p.max, 0)}`, 'ms'),
      row('warm turn / peer, p50', fmt(ratio, 3), '×', '≤ 0.1', ratio <= 0.1),
    ],
    raw: { cold: c, warm: w, beforeModel: before, afterModel: after, backToBack: b, peer: p },
  };
}
