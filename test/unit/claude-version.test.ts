import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkClaudeVersion, compareVersions, MIN_CLAUDE_VERSION } from '../../packages/openclaw-plugin/src/claude-version.js';
import { PINNED_CLAUDE_VERSION, realClaudeBinary } from '../helpers/real-claude.js';

let dir: string;

/** A fake `claude` that runs `body` as a shell script. */
function fakeCommand(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'claude-version-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compareVersions', () => {
  it.each([
    ['2.1.80', '2.1.80', 0],
    ['2.1.80', '2.1.9', 1],
    ['2.1.79', '2.1.80', -1],
    ['2.2.0', '2.1.330', 1],
    ['10.0.0', '9.99.99', 1],
    ['2.1', '2.1.0', 0],
  ])('%s vs %s -> %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(-expected || 0);
  });
});

describe('checkClaudeVersion', () => {
  it('requires 2.1.80 for channels', () => {
    expect(MIN_CLAUDE_VERSION).toBe('2.1.80');
  });

  it('parses "X.Y.Z (Claude Code)"', async () => {
    const cmd = fakeCommand('claude-ok', 'echo "2.1.330 (Claude Code)"');
    await expect(checkClaudeVersion(cmd)).resolves.toEqual({ version: '2.1.330' });
  });

  it('accepts exactly the minimum and passes env to the command', async () => {
    const cmd = fakeCommand('claude-env', 'echo "$FAKE_CLAUDE_VERSION (Claude Code)"');
    await expect(checkClaudeVersion(cmd, { FAKE_CLAUDE_VERSION: '2.1.80' })).resolves.toEqual({ version: '2.1.80' });
  });

  it('rejects versions older than 2.1.80 with an upgrade hint', async () => {
    const cmd = fakeCommand('claude-old', 'echo "2.1.79 (Claude Code)"');
    await expect(checkClaudeVersion(cmd)).rejects.toThrow(
      'Claude Code 2.1.79 is too old: channels need 2.1.80 or newer. Update with npm i -g @anthropic-ai/claude-code@latest',
    );
  });

  it('says how to install when `claude` is not on PATH', async () => {
    await expect(checkClaudeVersion('claude', { PATH: dir })).rejects.toThrow(
      'claude not found on PATH; install with npm i -g @anthropic-ai/claude-code or pass --claude-command',
    );
  });

  it('names a missing explicit path without claiming a PATH lookup', async () => {
    const missing = path.join(dir, 'nope', 'claude');
    await expect(checkClaudeVersion(missing)).rejects.toThrow(`${missing} not found; install with npm i -g`);
  });

  it('reports a failing command with its last output line and the --ignore-scripts fix', async () => {
    const cmd = fakeCommand('claude-stub', 'echo "Error: native binary not installed" >&2; exit 1');
    const err = await checkClaudeVersion(cmd).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('--version` exited with code 1: Error: native binary not installed');
    expect((err as Error).message).toContain('npm rebuild @anthropic-ai/claude-code');
  });

  it('rejects a program that is not Claude Code', async () => {
    const cmd = fakeCommand('not-claude', 'echo "v20.19.0"');
    await expect(checkClaudeVersion(cmd)).rejects.toThrow('printed "v20.19.0", not "X.Y.Z (Claude Code)"');
  });

  it('reads the pinned real binary', async () => {
    await expect(checkClaudeVersion(realClaudeBinary())).resolves.toEqual({ version: PINNED_CLAUDE_VERSION });
  });
});
