/**
 * Bench 3: many sessions at once. `sessions` clients start together, each doing `turns` turns
 * one after another on its own session (fake Claude from test/fixtures), so the first turn of
 * each includes starting its Claude while all the others start too. Reports errors, turn latency
 * (first turns and later turns apart), the gateway's peak RSS, and what the whole process tree
 * cost in PSS at its peak.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { startGateway } from './lib/gateway.mjs';
import { descendants, pssBytes, rssBytes } from './lib/proc.mjs';
import { streamTurn } from './lib/sse.mjs';
import { fmt, mib, nsToMs, row, summary } from './lib/stats.mjs';

function countBy(values) {
  const counts = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** Stop early rather than push the machine (shared with others) into the OOM killer. */
const MIN_AVAILABLE_BYTES = 2 * 1024 ** 3;

function memAvailable() {
  return Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))[1]) * 1024;
}

export async function run({ sessions = 200, turns = 5, log = () => {} } = {}) {
  const gateway = await startGateway({
    args: ['--max-sessions', String(sessions + 10), '--start-timeout-ms', '600000', '--turn-timeout-ms', '600000'],
  });
  let peakRss = 0;
  let peakTree = 0;
  let lowMemory = false;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssBytes(gateway.pid) ?? 0);
    if (memAvailable() < MIN_AVAILABLE_BYTES) lowMemory = true;
  }, 250);
  // Summing PSS over hundreds of processes is slow; every few seconds is enough to find the peak.
  const treeSampler = setInterval(() => {
    const tree = [gateway.pid, ...descendants(gateway.pid)].reduce((sum, pid) => sum + (pssBytes(pid) ?? 0), 0);
    peakTree = Math.max(peakTree, tree);
  }, 3000);
  // A connection per turn: reusing a kept-alive socket races the server closing it when idle
  // (5 s), and a machine this loaded can leave a client that long between two turns.
  const agent = new http.Agent({ keepAlive: false });
  const first = [];
  const later = [];
  const errors = [];
  const started = process.hrtime.bigint();
  let done = 0;
  try {
    await Promise.all(
      Array.from({ length: sessions }, async (_, s) => {
        for (let t = 0; t < turns; t++) {
          if (lowMemory) throw new Error('stopped: less than 2 GiB of memory left on the machine');
          const content = `session ${s} turn ${t}`;
          try {
            const result = await streamTurn(gateway.httpUrl, { content, agent, headers: { 'X-Openclaw-Chat-Id': `c${s}` } });
            if (result.error || result.text !== `echo: ${content}`) throw new Error(JSON.stringify(result.error ?? result.text));
            (t === 0 ? first : later).push(nsToMs(result.done - result.sent));
          } catch (err) {
            errors.push(err.message);
          }
          if (++done % 100 === 0) log(`concurrency: ${done}/${sessions * turns} turns`);
        }
      }),
    );
  } finally {
    clearInterval(sampler);
    clearInterval(treeSampler);
    const survivors = await gateway.stop();
    if (survivors.length) log(`concurrency: had to kill ${survivors.length} leftover process(es)`);
  }
  const wallS = nsToMs(process.hrtime.bigint() - started) / 1000;
  const f = summary(first);
  const l = summary(later);
  return {
    rows: [
      row(`concurrency: errors (${sessions} sessions × ${turns} turns)`, String(errors.length), '', '0', errors.length === 0),
      row('concurrency: first turn incl. Claude start, p50 / p99', `${fmt(f.p50 / 1000, 1)} / ${fmt(f.p99 / 1000, 1)}`, 's'),
      row('concurrency: later turns, p50 / p99', `${fmt(l.p50, 0)} / ${fmt(l.p99, 0)}`, 'ms'),
      row('concurrency: wall time for all turns', fmt(wallS, 0), 's'),
      row('concurrency: gateway peak RSS', fmt(mib(peakRss), 0), 'MiB', '< 150 MiB', mib(peakRss) < 150),
      row('concurrency: whole process tree peak PSS', fmt(mib(peakTree), 0), 'MiB'),
    ],
    raw: { first: f, later: l, errors: countBy(errors), peakRss, peakTree, wallS },
  };
}
