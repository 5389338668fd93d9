/**
 * The claude-plugin's V8 startup snapshot. The plugin starts once per Claude process; started from
 * a snapshot of its loaded modules it says hello ~50 ms sooner and is ready ~90 ms sooner
 * (docs/performance.md). A snapshot loads only in the `node` binary, and under the V8 flags, that
 * built it, so the gateway builds it itself, with the binary it launches the plugin with and no
 * flags (NODE_OPTIONS emptied, as for the launch), and files it in the cache dir under a key of
 * exactly those inputs. Every start runs it once before any Claude is pointed at it. Any failure
 * is logged and leaves sessions on the plugin's bundle: slower to start, otherwise the same.
 */
import { createHash, randomBytes } from 'node:crypto';
import { access, chmod, mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { PLUGIN_NODE_ENV, pluginSnapshotScript } from './claude-launch.js';
import type { Logger } from './logger.js';

const BUILD_TIMEOUT_MS = 60_000;
const CHECK_TIMEOUT_MS = 15_000;
/** What the plugin prints when started without its env: proof that the snapshot loaded and ran. */
const CHECK_OUTPUT = 'synthesis-claude-plugin: SYNTHESIS_WS_URL is required';

/** The snapshot file to launch the plugin from, or undefined when there is none (logged). */
export async function preparePluginSnapshot(cacheDir: string, logger: Logger): Promise<string | undefined> {
  try {
    const file = path.join(path.resolve(cacheDir), `claude-plugin-${await snapshotKey()}.blob`);
    if (await exists(file)) {
      const problem = await check(file);
      if (!problem) {
        logger.debug({ file }, 'claude-plugin startup snapshot reused');
        return file;
      }
      logger.warn({ file, problem }, 'cached claude-plugin startup snapshot does not run; building it again');
    }
    const started = performance.now();
    await build(file);
    logger.info({ file, ms: Math.round(performance.now() - started) }, 'claude-plugin startup snapshot built');
    return file;
  } catch (err) {
    logger.warn(
      { err: (err as Error).message, cacheDir },
      'no claude-plugin startup snapshot: sessions start the plugin from its bundle (~100 ms slower); check that the cache dir is writable',
    );
    return undefined;
  }
}

/** The inputs of a snapshot: node binary and version, and the script with its path (it loads `ws` from beside it). */
async function snapshotKey(): Promise<string> {
  const hash = createHash('sha256');
  hash.update([process.execPath, process.version, process.arch, pluginSnapshotScript].join('\0'));
  hash.update(await readFile(pluginSnapshotScript));
  return hash.digest('hex').slice(0, 16);
}

async function build(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Built aside and renamed into place: a gateway starting meanwhile never sees half a file.
  const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  try {
    const result = await node(['--snapshot-blob', partial, '--build-snapshot', pluginSnapshotScript], BUILD_TIMEOUT_MS);
    if (result.failed) throw new Error(`node --build-snapshot failed: ${describe(result)}`);
    const problem = await check(partial);
    if (problem) throw new Error(problem);
    // The snapshot runs as this user's code: only this user may read or replace it.
    await chmod(partial, 0o600);
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
}

/** Starts the plugin from `file` without its env; undefined when it loaded and said what is missing. */
async function check(file: string): Promise<string | undefined> {
  const result = await node(['--snapshot-blob', file], CHECK_TIMEOUT_MS);
  return result.stderr.includes(CHECK_OUTPUT) ? undefined : `it does not start the plugin: ${describe(result)}`;
}

/** `node` with only the plugin's Node env: no SYNTHESIS_* variable, no NODE_OPTIONS. */
async function node(args: string[], timeout: number): Promise<NodeRun> {
  const result = await execa(process.execPath, args, {
    env: { ...PLUGIN_NODE_ENV, PATH: process.env.PATH ?? '' },
    extendEnv: false,
    reject: false,
    timeout,
    stdin: 'ignore',
    stdout: 'ignore',
  });
  const exit = result.signal ? `signal ${result.signal}` : `exit code ${result.exitCode}`;
  return { failed: result.failed, timedOut: result.timedOut, exit, stderr: result.stderr };
}

interface NodeRun {
  failed: boolean;
  timedOut: boolean;
  /** "exit code N" or "signal SIGX". */
  exit: string;
  stderr: string;
}

function describe(run: NodeRun): string {
  if (run.timedOut) return 'timed out';
  // Node prints warnings and a stack around the error; the line naming it is what helps.
  const lines = run.stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  const line = lines.find((l) => /\b(Error|Failed|failed)\b/.test(l)) ?? lines.at(-1);
  return `${run.exit}${line ? `: ${line}` : ''}`;
}

const exists = (file: string) => access(file).then(
  () => true,
  () => false,
);
