#!/usr/bin/env node
/**
 * Soak: steady turns across many sessions (fake Claude) for a long time, printing the gateway's
 * memory and handles as it goes, then whether memory plateaued.
 *
 *   node bench/soak.mjs [--duration 30m] [--sessions 20] [--samples 30]
 *
 * Each session sends its next turn as soon as the previous one is answered. A sample reads the
 * gateway's RSS from /proc and its heap, active handles and open fds from its own /metrics.
 * Verdict: memory has plateaued when the mean RSS of the last third of the run is within 5 %
 * (+2 MiB) of the middle third's; the first third is warm-up (JIT, pools, caches).
 */
import { parseArgs } from 'node:util';
import { sample, startGateway } from './lib/gateway.mjs';
import { machineLoad, rssBytes } from './lib/proc.mjs';
import { streamTurn } from './lib/sse.mjs';
import { fmt, mib, printTable, row } from './lib/stats.mjs';

function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) throw new Error(`--duration: expected e.g. 30m, 90s, 1h; got "${text}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'];
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

export async function soak({ durationMs, sessions, samples, log = (line) => process.stdout.write(`${line}\n`) }) {
  const gateway = await startGateway({ args: ['--max-sessions', String(sessions + 2)] });
  const series = [];
  let turns = 0;
  const errors = [];
  const started = Date.now();
  const until = started + durationMs;
  const takeSample = async () => {
    const text = await gateway.metrics();
    const point = {
      minutes: (Date.now() - started) / 60_000,
      rss: rssBytes(gateway.pid),
      heap: sample(text, 'synthesis_nodejs_heap_size_used_bytes'),
      handles: sample(text, 'synthesis_nodejs_active_handles_total'),
      fds: sample(text, 'synthesis_process_open_fds'),
      turns,
      errors: errors.length,
      load: machineLoad().loadavg1,
    };
    series.push(point);
    log(
      `${fmt(point.minutes, 1).padStart(6)} min  rss ${fmt(mib(point.rss), 1).padStart(6)} MiB  heap ${fmt(mib(point.heap), 1).padStart(5)} MiB  handles ${String(point.handles).padStart(4)}  fds ${String(point.fds).padStart(4)}  turns ${String(turns).padStart(6)}  errors ${errors.length}  load ${point.load}`,
    );
  };
  const sampler = setInterval(() => takeSample().catch((err) => log(`sample failed: ${err.message}`)), durationMs / samples);
  try {
    await Promise.all(
      Array.from({ length: sessions }, async (_, s) => {
        for (let t = 0; Date.now() < until; t++) {
          const content = `soak ${s}.${t}`;
          try {
            const result = await streamTurn(gateway.httpUrl, { content, headers: { 'X-Openclaw-Chat-Id': `soak-${s}` } });
            if (result.error || result.text !== `echo: ${content}`) throw new Error(JSON.stringify(result.error ?? result.text));
            turns++;
          } catch (err) {
            errors.push(`${content}: ${err.message}`);
          }
        }
      }),
    );
    await takeSample();
  } finally {
    clearInterval(sampler);
    const survivors = await gateway.stop();
    if (survivors.length) log(`soak: had to kill ${survivors.length} leftover process(es)`);
  }
  const third = Math.max(1, Math.floor(series.length / 3));
  const middle = mean(series.slice(third, 2 * third).map((p) => p.rss));
  const last = mean(series.slice(-third).map((p) => p.rss));
  const plateau = last <= middle * 1.05 + 2 * 1024 * 1024;
  const end = series.at(-1);
  return {
    rows: [
      row(`soak: turns in ${fmt(durationMs / 60_000, 1)} min over ${sessions} sessions (errors)`, `${turns} (${errors.length})`, '', '0 errors', errors.length === 0),
      row('soak: gateway RSS, mean of middle → last third', `${fmt(mib(middle), 1)} → ${fmt(mib(last), 1)}`, 'MiB', 'plateau', plateau),
      row('soak: at the end: heap used / active handles / open fds', `${fmt(mib(end.heap), 1)} MiB / ${end.handles} / ${end.fds}`, ''),
    ],
    series,
    errors: errors.slice(0, 20),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '30m' }, sessions: { type: 'string', default: '20' }, samples: { type: 'string', default: '30' } } });
  const result = await soak({ durationMs: parseDuration(values.duration), sessions: Number(values.sessions), samples: Number(values.samples) });
  printTable(result.rows);
  if (result.errors.length) process.stdout.write(`first errors:\n  ${result.errors.join('\n  ')}\n`);
  process.exitCode = result.rows.every((r) => r.verdict !== 'MISSED') ? 0 : 1;
}
