/** Process inspection for benches (Linux /proc): memory of a pid, its descendants, waiting for exit. */
import { readdirSync, readFileSync } from 'node:fs';

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

/** Open file descriptors of a pid (sockets, pipes, PTYs, files). */
export function openFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

export function cmdline(pid) {
  return readOr(`/proc/${pid}/cmdline`, '').split('\0').join(' ').trim();
}

function parentOf(pid) {
  const stat = readOr(`/proc/${pid}/stat`, undefined);
  if (stat === undefined) return undefined;
  // Field 2 (comm) may hold spaces and parentheses; the fields after the last ')' are fixed.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

export function descendants(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    for (const child of children.get(stack.pop()) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie answers signal 0 until reaped but runs nothing.
  return !/^\S+ \(.*\) Z /.test(readOr(`/proc/${pid}/stat`, ''));
}

/** Resolves with the pids still alive after `timeoutMs` (empty when all exited). */
export async function waitForExit(pids, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function killQuietly(pid, signal = 'SIGKILL') {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
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
