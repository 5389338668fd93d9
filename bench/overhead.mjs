/**
 * Bench 1: what the gateway and the claude-plugin add to a turn, with a Claude that answers at
 * once (lib/timed-claude.mjs). Two legs per turn, timed across processes on one clock:
 * - request → inbound: the client writes the request; Claude Code's side of MCP sees the channel
 *   notification (HTTP parse, session routing, bridge frame, plugin, MCP stdio);
 * - reply → client: Claude calls the reply tool; the client reads the content delta (MCP stdio,
 *   plugin, bridge frame, session, SSE).
 * Turns run one at a time, each after the previous one has settled (Stop hook done), so neither
 * leg includes waiting for the previous turn. The first turns warm up and are not counted.
 *
 * The same legs are then timed through lib/floor-relay.mjs: the same transports (HTTP, WebSocket,
 * stdio) across the same number of Node processes with a bare relay at each step, paced like the
 * real turns. The difference is what the gateway and the plugin themselves add.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGateway, ROOT } from './lib/gateway.mjs';
import { descendants, reap } from './lib/proc.mjs';
import { streamTurn } from './lib/sse.mjs';
import { fmt, nsToMs, row, summary } from './lib/stats.mjs';

const TIMED_CLAUDE = path.join(ROOT, 'bench/lib/timed-claude.mjs');
const FLOOR_RELAY = path.join(ROOT, 'bench/lib/floor-relay.mjs');
/** Pause between floor turns: about the Stop hook's run between real turns, so both start from idle processes. */
const FLOOR_PACE_MS = 100;

/** The socket timed-claude reports on; `next(ev, content)` resolves with that event. */
async function startEventSocket() {
  const file = path.join(tmpdir(), `synthesis-bench-${process.pid}.sock`);
  rmSync(file, { force: true });
  const waiters = new Map();
  const early = new Map();
  const server = net.createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8').on('data', (data) => {
      buffer += data;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const event = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        const key = `${event.ev}/${event.content}`;
        const waiter = waiters.get(key);
        if (waiter) {
          waiters.delete(key);
          waiter(event);
        } else early.set(key, event);
      }
    });
  });
  server.listen(file);
  await once(server, 'listening');
  return {
    file,
    next(ev, content) {
      const key = `${ev}/${content}`;
      const seen = early.get(key);
      if (seen) {
        early.delete(key);
        return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${ev} for "${content}" within 60 s`)), 60_000);
        waiters.set(key, (event) => {
          clearTimeout(timer);
          resolve(event);
        });
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve(rmSync(file, { force: true })))),
  };
}

/**
 * Runs `warmup + turns` turns one at a time against `url`; `between(content)` resolves when the
 * next may start. Returns both legs per counted turn, in ms.
 */
async function timeTurns({ url, events, turns, warmup, between, log, label }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const legs = { inbound: [], reply: [], roundTrip: [] };
  try {
    for (let i = 0; i < warmup + turns; i++) {
      const content = `turn ${i}`;
      const turnEvent = events.next('turn', content);
      const next = between(content);
      const result = await streamTurn(url, { content, agent });
      if (result.error || result.text !== `echo: ${content}`) throw new Error(`${label} turn ${i} failed: ${JSON.stringify(result.error ?? result.text)}`);
      const t = await turnEvent;
      await next;
      if (i < warmup) continue;
      legs.inbound.push(nsToMs(BigInt(t.inbound) - result.sent));
      legs.reply.push(nsToMs(result.firstContent - BigInt(t.reply)));
      legs.roundTrip.push(nsToMs(result.firstContent - result.sent));
      if ((i - warmup + 1) % 200 === 0) log(`${label}: ${i - warmup + 1}/${turns} turns`);
    }
  } finally {
    agent.destroy();
  }
  return { inbound: summary(legs.inbound), reply: summary(legs.reply), roundTrip: summary(legs.roundTrip) };
}

async function timeGateway({ events, turns, warmup, log }) {
  const gateway = await startGateway({
    claudeCommand: TIMED_CLAUDE,
    env: { ...process.env, BENCH_EVENTS: events.file },
    args: ['--log-level', 'info'],
  });
  try {
    return await timeTurns({ url: gateway.httpUrl, events, turns, warmup, between: (content) => events.next('settled', content), log, label: 'overhead' });
  } finally {
    const survivors = await gateway.stop();
    if (survivors.length) log(`overhead: had to kill ${survivors.length} leftover process(es)`);
  }
}

async function timeFloor({ events, turns, warmup, log }) {
  const relay = spawn(process.execPath, [FLOOR_RELAY, 'http'], { env: { ...process.env, BENCH_EVENTS: events.file }, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [port] = await Promise.race([
      once(relay.stdout.setEncoding('utf8'), 'data'),
      once(relay, 'exit').then(([code]) => Promise.reject(new Error(`floor relay exited (${code})`))),
    ]);
    const pace = () => new Promise((resolve) => setTimeout(resolve, FLOOR_PACE_MS));
    return await timeTurns({ url: `http://127.0.0.1:${port.trim()}`, events, turns, warmup, between: pace, log, label: 'floor' });
  } finally {
    // Each relay exits when its stdin ends, after the process it started.
    const tree = [relay.pid, ...descendants(relay.pid)];
    relay.stdin.end();
    const left = await reap(tree);
    if (left.length) log(`floor: had to kill ${left.length} relay process(es)`);
  }
}

export async function run({ turns = 1000, warmup = 20, log = () => {} } = {}) {
  const events = await startEventSocket();
  let gw;
  let floor;
  try {
    gw = await timeGateway({ events, turns, warmup, log });
    floor = await timeFloor({ events, turns, warmup, log });
  } finally {
    await events.close();
  }
  const i = gw.inbound;
  const r = gw.reply;
  // Medians subtract; tails do not (p99 of a sum is not a sum of p99s), so only p50 is given.
  const added = (leg) => fmt(gw[leg].p50 - floor[leg].p50, 2);
  return {
    rows: [
      row(`request → inbound at Claude, p50 / p99 (${i.n} turns)`, `${fmt(i.p50, 2)} / ${fmt(i.p99, 2)}`, 'ms', 'p50 < 1, p99 < 5 ms', i.p50 < 1 && i.p99 < 5),
      row(`reply tool call → SSE bytes at client, p50 / p99 (${r.n} turns)`, `${fmt(r.p50, 2)} / ${fmt(r.p99, 2)}`, 'ms', 'p50 < 1, p99 < 5 ms', r.p50 < 1 && r.p99 < 5),
      row('both legs: request → first content byte, p50 / p99', `${fmt(gw.roundTrip.p50, 2)} / ${fmt(gw.roundTrip.p99, 2)}`, 'ms'),
      row('floor (bare relays, same hops): request → inbound, p50 / p99', `${fmt(floor.inbound.p50, 2)} / ${fmt(floor.inbound.p99, 2)}`, 'ms'),
      row('floor (bare relays, same hops): reply → client, p50 / p99', `${fmt(floor.reply.p50, 2)} / ${fmt(floor.reply.p99, 2)}`, 'ms'),
      row('gateway + plugin above the floor: request → inbound, p50', added('inbound'), 'ms'),
      row('gateway + plugin above the floor: reply → client, p50', added('reply'), 'ms'),
    ],
    raw: { gateway: gw, floor },
  };
}
