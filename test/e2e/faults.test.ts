/**
 * Fault injection against the real gateway CLI and fake Claude: 100 turns, each hit at a random
 * point by one of three faults, rotating:
 * - `claude`: SIGKILL of the Claude process (its plugin is orphaned and must exit by itself);
 * - `plugin`: SIGKILL of the claude-plugin (Claude lives on without its channel);
 * - `bridge`: the plugin's bridge TCP connection is destroyed with `ss -K` (both processes live;
 *   the gateway sees a reset, as from a network fault, and the plugin reconnects).
 * The point is random: an anchor (request sent, or turn delivered to Claude) plus a random offset
 * within the turn's scripted duration, so faults land before delivery, during the turn, and
 * (when the test is slow to react) after the reply.
 *
 * Every caller gets either its own complete answer or an error chunk and [DONE], never a hang or
 * another turn's answer; the next turn on the session works; after shutdown no process remains,
 * including orphaned plugins that the gateway's process tree no longer shows.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { descendants, waitForExit } from '../helpers/processes.js';
import { postChat, readSse } from '../helpers/sse.js';

afterAll(stopAllGateways);

const REPETITIONS = 100;
/** Sessions faulted in parallel; each runs its share of the repetitions one after another. */
const LANES = 4;
const KINDS = ['claude', 'plugin', 'bridge'] as const;
type Kind = (typeof KINDS)[number];
const TURN_DEADLINE_MS = 45_000;

/** Reproducible randomness: FAULT_SEED re-runs a failing sequence. */
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 2 ** 31);
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(SEED);
const randomInt = (max: number) => Math.floor(random() * (max + 1));

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The plugin's bridge socket, found by owner pid, destroyed by the kernel (needs CAP_NET_ADMIN). */
function destroyBridgeSocket(pluginPid: number, bridgePort: number): boolean {
  const sockets = execFileSync('ss', ['-tnpH', 'state', 'established', 'dport', '=', `:${bridgePort}`], { encoding: 'utf8' });
  const line = sockets.split('\n').find((l) => l.includes(`pid=${pluginPid},`));
  const localPort = line && /127\.0\.0\.1:(\d+)\s/.exec(line)?.[1];
  if (!localPort) return false;
  execFileSync('ss', ['-K', '-tn', 'state', 'established', 'sport', '=', `:${localPort}`, 'dport', '=', `:${bridgePort}`]);
  return true;
}

type Outcome = { kind: 'answer'; text: string } | { kind: 'error'; code: string };

/** One streamed turn, read to [DONE]: its answer, or the error chunk it ended with. */
async function streamTurn(gw: TestGateway, chatId: string, content: string): Promise<Outcome> {
  const res = await postChat(gw.httpUrl, { model: 'm', stream: true, messages: [{ role: 'user', content }] }, { 'X-Openclaw-Chat-Id': chatId });
  const events = await readSse(res);
  expect(events.at(-1)).toBe('[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { error?: { code: string }; choices?: { delta: { content?: string } }[] });
  const error = chunks.find((c) => c.error)?.error;
  if (error) return { kind: 'error', code: error.code };
  return { kind: 'answer', text: chunks.map((c) => c.choices?.[0]?.delta.content ?? '').join('') };
}

function withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no outcome within ${TURN_DEADLINE_MS} ms (seed ${SEED})`)), TURN_DEADLINE_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('faults at random points of a turn', () => {
  let gw: TestGateway;
  let bridgePort: number;
  /** Every Claude and plugin pid seen: all must be gone after shutdown. */
  const seen = new Set<number>();
  const tally = new Map<string, number>();

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--max-sessions', String(LANES + 1), '--turn-timeout-ms', '30000'] });
    bridgePort = Number(new URL(gw.bridgeUrl).port);
  });

  async function processesOf(chatId: string) {
    const session = (await gw.healthz()).sessions.find((s) => s.key === `default::${chatId}`);
    const claude = session?.pid;
    const plugin = claude === undefined ? undefined : descendants(claude).find((pid) => cmdline(pid).includes('claude-plugin'));
    return { claude, plugin };
  }

  function inject(kind: Kind, pids: { claude?: number; plugin?: number }): string {
    if (kind === 'claude' && pids.claude) process.kill(pids.claude, 'SIGKILL');
    else if (kind === 'plugin' && pids.plugin) process.kill(pids.plugin, 'SIGKILL');
    else if (kind === 'bridge' && pids.plugin && destroyBridgeSocket(pids.plugin, bridgePort)) return 'done';
    else return 'no target';
    return 'done';
  }

  async function lane(index: number, reps: number[]): Promise<void> {
    const chatId = `fault-${index}`;
    const first = await streamTurn(gw, chatId, 'warm up');
    expect(first).toEqual({ kind: 'answer', text: 'echo: warm up' });
    for (const rep of reps) {
      const kind = KINDS[rep % KINDS.length]!;
      const pids = await processesOf(chatId);
      for (const pid of [pids.claude, pids.plugin]) if (pid) seen.add(pid);
      // Long enough that the test, reading the gateway's log through a pipe on a loaded machine,
      // still lands most faults inside the turn; some land after the reply, which is allowed.
      const slowMs = 100 + randomInt(300);
      const content = `[[slow:${slowMs}]] fault ${rep}`;
      const anchor = random() < 0.5 ? 'sent' : 'delivered';
      const offsetMs = randomInt(slowMs);
      const mark = gw.logs.length;

      const turn = withDeadline(streamTurn(gw, chatId, content), `rep ${rep} (${kind})`);
      if (anchor === 'delivered') {
        await gw.waitForLog((l) => l.msg === 'turn delivered to Claude' && l.session === `default::${chatId}`, TURN_DEADLINE_MS, mark);
      }
      // The offset is the fault's random position in the turn, not a wait for something to happen.
      await new Promise((r) => setTimeout(r, offsetMs));
      const delivered = gw.logs.slice(mark).some((l) => l.msg === 'turn delivered to Claude' && l.session === `default::${chatId}`);
      const injected = inject(kind, pids);
      const outcome = await turn;

      // Its own complete answer, or an error: never someone else's answer, never a partial one.
      if (outcome.kind === 'answer') expect(outcome.text).toBe(`echo: ${content}`);
      // no_reply: the plugin died, Claude's reply failed, and its Stop hook (a connection of its
      // own) reported the turn over before the gateway had put the drop down to the bridge.
      else expect(['claude_exited', 'bridge_disconnected', 'no_reply', 'claude_start_failed']).toContain(outcome.code);
      // A fault before delivery is absorbed: the turn goes to a restarted Claude and is answered.
      const key = `${kind}/${injected === 'done' ? `${delivered ? 'in turn' : 'before delivery'}/${outcome.kind === 'error' ? outcome.code : 'answered'}` : 'no target'}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);

      const after = await withDeadline(streamTurn(gw, chatId, `after ${rep}`), `turn after rep ${rep} (${kind})`);
      expect(after, `turn after rep ${rep} (${kind}, seed ${SEED})`).toEqual({ kind: 'answer', text: `echo: after ${rep}` });
    }
    const last = await processesOf(chatId);
    for (const pid of [last.claude, last.plugin]) if (pid) seen.add(pid);
  }

  it(`survives ${REPETITIONS} faults across ${LANES} sessions, and leaves no process behind`, async () => {
    const shares = Array.from({ length: LANES }, (_, i) => Array.from({ length: REPETITIONS }, (_, rep) => rep).filter((rep) => rep % LANES === i));
    await Promise.all(shares.map((reps, i) => lane(i, reps)));
    // What happened, for the log of this run (seed to reproduce it).
    console.info(`fault tally (seed ${SEED}):`, Object.fromEntries([...tally].sort()));
    const injected = [...tally].filter(([k]) => !k.endsWith('no target')).reduce((n, [, v]) => n + v, 0);
    expect(injected).toBeGreaterThanOrEqual(REPETITIONS * 0.9);
    // Faults that break a running turn are the point; a good share must have.
    expect([...tally].filter(([k]) => k.includes('/in turn/') && !k.endsWith('answered')).reduce((n, [, v]) => n + v, 0)).toBeGreaterThan(REPETITIONS / 3);

    const { code, survivors } = await gw.stop();
    expect(code).toBe(0);
    expect(survivors).toEqual([]);
    await waitForExit([...seen], 60_000);
  }, 600_000);
});
