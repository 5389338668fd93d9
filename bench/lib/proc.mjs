/**
 * Process inspection for benches (Linux /proc): memory and CPU time of a pid, machine load. Process
 * trees and waiting for exit come from the tests' own helper (test/helpers/processes.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { importTestHelper } from './ts-helpers.mjs';

function readOr(file, fallback) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** Resident set size in bytes (shared pages such as the node binary counted in full). */
export function rssBytes(pid) {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readOr(`/proc/${pid}/status`, ''))?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/**
 * Proportional set size in bytes: shared pages divided among the processes sharing them, so a
 * sum over many node processes is what they really cost the machine (RSS double-counts).
 */
export function pssBytes(pid) {
  const kb = /^Pss:\s+(\d+) kB/m.exec(readOr(`/proc/${pid}/smaps_rollup`, ''))?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

const processes = await importTestHelper('test/helpers/processes.ts');
export const { descendants, isAlive, killQuietly } = processes;

/** Waits up to `timeoutMs` for `pids` to exit, then SIGKILLs the rest; returns those it killed. */
export async function reap(pids, timeoutMs = 5000) {
  try {
    await processes.waitForExit(pids, timeoutMs);
    return [];
  } catch {
    const survivors = pids.filter(isAlive);
    for (const pid of survivors) killQuietly(pid);
    return survivors;
  }
}

/** Load of the machine while a bench ran, for the report: 1-minute load average and CPU count. */
export function machineLoad() {
  const [one] = readOr('/proc/loadavg', '0').split(' ');
  const cpus = readOr('/proc/cpuinfo', '').match(/^processor\s*:/gm)?.length ?? 0;
  return { loadavg1: Number(one), cpus };
}

/** CPU time (ns) all threads of a pid have run so far, from the scheduler's own accounting. */
export function cpuNs(pid) {
  let total = 0n;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      total += BigInt(readOr(`/proc/${pid}/task/${tid}/schedstat`, '0').split(' ')[0]);
    }
  } catch {
    return undefined;
  }
  return total;
}
