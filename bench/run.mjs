#!/usr/bin/env node
/**
 * `npm run bench`: runs the benchmarks one after another and prints one table of figures, ratios
 * and targets (docs/performance.md says what each measures and records results).
 *
 *   node bench/run.mjs [--only overhead,warm-cold,concurrency,plugin] [--turns 1000]
 *                      [--sessions 200] [--runs 15] [--json results.json]
 *
 * The machine is shared and its load moves timings, so the load average is printed with each
 * bench. The soak test is separate: node bench/soak.mjs --duration 30m.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { run as concurrency } from './concurrency.mjs';
import { machineLoad } from './lib/proc.mjs';
import { printTable, row } from './lib/stats.mjs';
import { run as overhead } from './overhead.mjs';
import { run as pluginCost } from './plugin-cost.mjs';
import { run as warmCold } from './warm-cold.mjs';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'overhead,warm-cold,concurrency,plugin' },
    turns: { type: 'string', default: '1000' },
    sessions: { type: 'string', default: '200' },
    runs: { type: 'string', default: '15' },
    json: { type: 'string' },
  },
});

const log = (line) => process.stderr.write(`${line}\n`);
const benches = {
  overhead: () => overhead({ turns: Number(values.turns), log }),
  'warm-cold': () => warmCold({ log }),
  concurrency: () => concurrency({ sessions: Number(values.sessions), log }),
  plugin: () => pluginCost({ runs: Number(values.runs), log }),
};

const selected = values.only.split(',').map((s) => s.trim());
const unknown = selected.filter((name) => !(name in benches));
if (unknown.length) {
  log(`bench: unknown --only entries: ${unknown.join(', ')} (choose from ${Object.keys(benches).join(', ')})`);
  process.exit(2);
}

const rows = [];
const results = {};
for (const name of selected) {
  const before = machineLoad();
  log(`bench: ${name} (load average ${before.loadavg1} on ${before.cpus} CPUs)`);
  const startedAt = Date.now();
  try {
    const result = await benches[name]();
    results[name] = { ...result, loadBefore: before.loadavg1, loadAfter: machineLoad().loadavg1, seconds: (Date.now() - startedAt) / 1000 };
    rows.push(...result.rows);
  } catch (err) {
    results[name] = { error: err.stack ?? String(err) };
    rows.push(row(`${name}: FAILED`, err.message.split('\n')[0], '', '', false));
  }
  rows.push(row(`${name}: load average before → after, duration`, `${before.loadavg1} → ${machineLoad().loadavg1}, ${Math.round((Date.now() - startedAt) / 1000)} s`, ''));
}

process.stdout.write(`\nSynthesisAgent benchmarks — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, node ${process.version}\n\n`);
printTable(rows);
for (const [name, result] of Object.entries(results)) {
  const errors = result.raw?.errors ?? {};
  if (Object.keys(errors).length) process.stdout.write(`\n${name} errors by message: ${JSON.stringify(errors, null, 2)}\n`);
}
if (values.json) writeFileSync(values.json, `${JSON.stringify({ machine: { cpus: os.cpus().length, node: process.version }, results }, null, 2)}\n`);
process.exitCode = rows.some((r) => r.verdict === 'MISSED') ? 1 : 0;
