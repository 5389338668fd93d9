#!/usr/bin/env node
/**
 * Installs the real OpenClaw the openclaw test suite drives, into a cache dir rather than as a
 * product dependency: `node@24` (OpenClaw needs Node >= 24.16 for node:sqlite; our code stays on
 * Node 20) and `openclaw@2026.9.6`, both from npm. Idempotent: a finished install leaves a marker
 * naming the versions and is reused as is.
 *
 *   node test/openclaw/install-openclaw.mjs      # warm the cache (CI does this before the suite)
 *
 * Cache dir: $SYNTHESIS_OPENCLAW_CACHE, default <repo>/.cache/openclaw (git-ignored).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const OPENCLAW_VERSION = '2026.9.6';
const NODE_SPEC = 'node@24';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE_DIR = process.env.SYNTHESIS_OPENCLAW_CACHE ?? path.join(ROOT, '.cache', 'openclaw');

/** npm's error codes for "could not reach the registry" (npm prints them as `npm error code X`). */
const UNREACHABLE = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT)\b|network request to .* failed|socket hang up/i;

/**
 * @typedef {{ ok: true, node: string, openclaw: string, cacheDir: string }} Installed
 * @typedef {{ ok: false, reason: string }} Unavailable
 */

function paths(cacheDir) {
  const modules = path.join(cacheDir, 'node_modules');
  return {
    node: path.join(modules, 'node', 'bin', 'node'),
    openclaw: path.join(modules, 'openclaw', 'openclaw.mjs'),
    bin: path.join(modules, '.bin'),
    marker: path.join(cacheDir, 'installed.json'),
  };
}

function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ code: -1, output: `${output}${err.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function npmInstall(cacheDir, spec, env) {
  const { code, output } = await run('npm', ['install', '--prefix', cacheDir, '--no-audit', '--no-fund', '--save-exact', spec], env);
  if (code === 0) return undefined;
  const unreachable = UNREACHABLE.exec(output);
  if (unreachable) return `npm registry unreachable (${unreachable[0]}) while installing ${spec}`;
  throw new Error(`npm install ${spec} failed (exit ${code}):\n${output}`);
}

/**
 * Installs (once) and returns where node@24 and the openclaw launcher are. Resolves `{ok: false}`
 * only when the npm registry cannot be reached; any other install failure throws.
 * @returns {Promise<Installed | Unavailable>}
 */
export async function ensureOpenClaw(cacheDir = CACHE_DIR) {
  const p = paths(cacheDir);
  const wanted = { openclaw: OPENCLAW_VERSION, node: NODE_SPEC };
  if (existsSync(p.marker) && existsSync(p.node) && existsSync(p.openclaw)) {
    const marker = JSON.parse(readFileSync(p.marker, 'utf8'));
    if (marker.openclaw === wanted.openclaw && marker.node === wanted.node) return { ok: true, node: p.node, openclaw: p.openclaw, cacheDir };
  }
  // A stale or half-finished install is rebuilt from scratch rather than patched; only what this
  // function writes is removed, in case the cache dir was pointed somewhere shared.
  for (const file of [p.marker, path.join(cacheDir, 'node_modules'), path.join(cacheDir, 'package-lock.json')]) {
    rmSync(file, { recursive: true, force: true });
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(path.join(cacheDir, 'package.json'), '{ "private": true }\n');

  // Two steps: OpenClaw's preinstall script refuses to run on Node < 24.16, and npm runs
  // lifecycle scripts with the prefix's node_modules/.bin first on PATH, so node@24 goes first.
  const env = { ...process.env, PATH: `${p.bin}${path.delimiter}${process.env.PATH ?? ''}` };
  for (const spec of [NODE_SPEC, `openclaw@${OPENCLAW_VERSION}`]) {
    const unreachable = await npmInstall(cacheDir, spec, env);
    if (unreachable) return { ok: false, reason: unreachable };
  }
  const version = await run(p.node, ['--version'], env);
  if (!/^v24\./.test(version.output.trim())) throw new Error(`${NODE_SPEC} installed a node reporting ${version.output.trim()}`);
  writeFileSync(p.marker, `${JSON.stringify({ ...wanted, nodeVersion: version.output.trim() })}\n`);
  return { ok: true, node: p.node, openclaw: p.openclaw, cacheDir };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await ensureOpenClaw();
  if (result.ok) process.stdout.write(`openclaw ${OPENCLAW_VERSION} ready: ${result.node} ${result.openclaw}\n`);
  else process.stdout.write(`skipped: ${result.reason}\n`);
}
