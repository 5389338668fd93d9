/** The `synthesis-agent` command line: help, config, doctor, and refusals with exit code 2. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, FAKE_CLAUDE, ROOT } from '../helpers/gateway.js';

const exec = promisify(execFile);

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('synthesis-agent CLI', () => {
  it('lists every option with its default and env name in --help', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--port <value>\n\s+.*\(default: 18900\) \[env SYNTHESIS_PORT\]/);
    expect(stdout).toContain('--claude-arg <value>');
    expect(stdout).toContain('doctor');
  });

  it('prints the effective config with secrets redacted, from flags, env and a config file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-'));
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ queueDepth: 3, webToken: 'file-secret' }));
    const { code, stdout } = await run(['config', '--config', file, '--api-key', 'flag-secret'], { SYNTHESIS_PORT: '1234' });
    expect(code).toBe(0);
    const config = JSON.parse(stdout) as Record<string, unknown>;
    expect(config).toMatchObject({ port: 1234, queueDepth: 3, apiKey: '<redacted>', webToken: '<redacted>' });
    expect(stdout).not.toMatch(/secret/);
  });

  it.each([
    [['--port', 'seventy'], /port \(--port \/ SYNTHESIS_PORT\)/],
    [['--bogus'], /bogus/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('exits 2 on %j', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('refuses to start without a usable claude, saying how to fix it', async () => {
    const { code, stderr } = await run(['--port', '0', '--bridge-port', '0', '--claude-command', '/nonexistent/claude']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/not found.*--claude-command/);
  });

  it('refuses a Claude Code too old for channels', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-old-'));
    const old = path.join(dir, 'claude');
    writeFileSync(old, '#!/bin/sh\necho "2.1.79 (Claude Code)"\n', { mode: 0o755 });
    const { code, stderr } = await run(['--port', '0', '--bridge-port', '0', '--claude-command', old]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/2\.1\.79 is too old: channels need 2\.1\.80/);
  });

  it('doctor passes every check with a working Claude and starts a real session', async () => {
    const state = mkdtempSync(path.join(tmpdir(), 'doctor-'));
    const { code, stdout } = await run(['doctor', '--claude-command', FAKE_CLAUDE, '--state-dir', state, '--port', '0', '--bridge-port', '0']);
    expect(stdout).toMatch(/^ok +claude: .*2\.1\.330$/m);
    expect(stdout).toMatch(/^ok +session: Claude pid \d+ started/m);
    expect(code).toBe(0);
  });

  it('doctor names each failing check with a fix and exits 1', async () => {
    const { code, stdout } = await run(['doctor', '--claude-command', '/nonexistent/claude', '--workspace', '/nonexistent/ws', '--port', '0', '--bridge-port', '0']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL claude: .*not found/m);
    expect(stdout).toMatch(/^FAIL workspace: /m);
    expect(stdout).toMatch(/fix: /);
  });
});
