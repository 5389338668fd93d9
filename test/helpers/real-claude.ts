/**
 * The Claude Code binary the real-process tests run: the pinned devDependency, never whatever
 * `claude` happens to be on PATH, so every run exercises the version the docs were measured on.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const PINNED_CLAUDE_VERSION = '2.1.330';

let verified: string | undefined;

/**
 * Absolute path of node_modules/@anthropic-ai/claude-code/bin/claude.exe after checking that it is
 * the real native binary at the pinned version. Throws an Error that says how to fix the install.
 */
export function realClaudeBinary(): string {
  if (verified) return verified;
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('@anthropic-ai/claude-code/package.json'));
  } catch {
    throw new Error(
      `@anthropic-ai/claude-code is not installed; run \`npm ci\` at the repository root (it pins ${PINNED_CLAUDE_VERSION}).`,
    );
  }
  const bin = path.join(pkgDir, 'bin', 'claude.exe');
  const reinstall =
    `Run \`npm rebuild @anthropic-ai/claude-code\` (or \`node ${path.join(pkgDir, 'install.cjs')}\`) so its ` +
    'postinstall links the platform binary, and make sure the matching optional package ' +
    '(@anthropic-ai/claude-code-<platform>) was installed.';
  // The package ships a few-hundred-byte placeholder that the postinstall script replaces with the
  // ~380 MB native binary; with --ignore-scripts the placeholder stays and only prints an error.
  let size: number;
  try {
    size = statSync(bin).size;
  } catch {
    throw new Error(`${bin} is missing. ${reinstall}`);
  }
  if (size < 1024 * 1024) {
    throw new Error(`${bin} is the placeholder left by an install with --ignore-scripts (${size} bytes). ${reinstall}`);
  }
  let out: string;
  try {
    out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${bin} --version failed: ${(e.stderr || e.message).trim()}. ${reinstall}`);
  }
  const version = /^(\d+\.\d+\.\d+) \(Claude Code\)/m.exec(out)?.[1];
  if (version !== PINNED_CLAUDE_VERSION) {
    throw new Error(
      `${bin} reports ${JSON.stringify(out.trim())}, expected ${PINNED_CLAUDE_VERSION} (Claude Code). ` +
        `Run \`npm ci\` to restore the pinned version; if you upgraded on purpose, re-measure docs/claude-code.md first.`,
    );
  }
  verified = bin;
  return bin;
}
