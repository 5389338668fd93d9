/**
 * Bench 1: what the gateway and the claude-plugin add to a turn, with a Claude that answers at
 * once (lib/timed-claude.mjs). Two legs per turn, timed across processes on one clock:
 * - request → inbound: the client writes the request; Claude Code's side of MCP sees the channel
 *   notification (HTTP parse, session routing, bridge frame, plugin, MCP stdio);
 * - reply → client: Claude calls the reply tool; the client reads the content delta (MCP stdio,
 *   plugin, bridge frame, session, SSE).
 * Turns run one at a time, each after the previous one has settled (Stop hook done), so neither
 * leg includes waiting for the previous turn. The first turns warm up and are not counted.
 */
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGateway, ROOT } from './lib/gateway.mjs';
import { streamTurn } from './lib/sse.mjs';
import { fmt, nsToMs, row, summary } from './lib/stats.mjs';

const TIMED_CLAUDE = path.join(ROOT, 'bench/lib/timed-claude.mjs');

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

export async function run({ turns = 1000, warmup = 20, log = () => {} } = {}) {
  const events = await startEventSocket();
  const gateway = await startGateway({
    claudeCommand: TIMED_CLAUDE,
    env: { ...process.env, BENCH_EVENTS: events.file },
    args: ['--log-level', 'info'],
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const inbound = [];
  const reply = [];
  const roundTrip = [];
  try {
    for (let i = 0; i < warmup + turns; i++) {
      const content = `turn ${i}`;
      const turnEvent = events.next('turn', content);
      const settled = events.next('settled', content);
      const result = await streamTurn(gateway.httpUrl, { content, agent });
      if (result.error || result.text !== `echo: ${content}`) throw new Error(`turn ${i} failed: ${JSON.stringify(result.error ?? result.text)}`);
      const t = await turnEvent;
      await settled;
      if (i < warmup) continue;
      inbound.push(nsToMs(BigInt(t.inbound) - result.sent));
      reply.push(nsToMs(result.firstContent - BigInt(t.reply)));
      roundTrip.push(nsToMs(result.firstContent - result.sent));
      if ((i - warmup + 1) % 200 === 0) log(`overhead: ${i - warmup + 1}/${turns} turns`);
    }
  } finally {
    agent.destroy();
    const survivors = await gateway.stop();
    await events.close();
    if (survivors.length) log(`overhead: had to kill ${survivors.length} leftover process(es)`);
  }
  const i = summary(inbound);
  const r = summary(reply);
  const rt = summary(roundTrip);
  return {
    rows: [
      row(`request → inbound at Claude, p50 / p99 (${i.n} turns)`, `${fmt(i.p50, 2)} / ${fmt(i.p99, 2)}`, 'ms', 'p50 < 1, p99 < 5 ms', i.p50 < 1 && i.p99 < 5),
      row(`reply tool call → SSE bytes at client, p50 / p99 (${r.n} turns)`, `${fmt(r.p50, 2)} / ${fmt(r.p99, 2)}`, 'ms', 'p50 < 1, p99 < 5 ms', r.p50 < 1 && r.p99 < 5),
      row('both legs: request → first content byte, p50 / p99', `${fmt(rt.p50, 2)} / ${fmt(rt.p99, 2)}`, 'ms'),
    ],
    raw: { inbound: i, reply: r, roundTrip: rt },
  };
}
