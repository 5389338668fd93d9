import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, loadConfig, redactConfig } from '../../packages/openclaw-plugin/src/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig([], {});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 18900,
      bridgePort: 18901,
      claudeCommand: 'claude',
      claudeArg: [],
      heartbeatMs: 30_000,
      pingMs: 30_000,
      replyMode: 'buffered',
      permissions: 'relay',
      systemPrompt: 'ignore',
      historyBootstrap: 'on',
    });
  });

  it('takes flags over env over the config file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 1000, bridgePort: 1001, queueDepth: 3 }));
    const config = loadConfig(['--config', file, '--port', '2000'], { SYNTHESIS_BRIDGE_PORT: '3001', SYNTHESIS_PORT: '3000' });
    expect(config.port).toBe(2000);
    expect(config.bridgePort).toBe(3001);
    expect(config.queueDepth).toBe(3);
  });

  it('repeats list flags and splits list env values on commas', () => {
    expect(loadConfig(['--claude-arg', '--model', '--claude-arg', 'opus'], {}).claudeArg).toEqual(['--model', 'opus']);
    expect(loadConfig([], { SYNTHESIS_ALLOWED_HOST: 'a.example, b.example' }).allowedHost).toEqual(['a.example', 'b.example']);
  });

  it('parses booleans from flags and env', () => {
    expect(loadConfig(['--deliver-late-replies'], {}).deliverLateReplies).toBe(true);
    expect(loadConfig([], { SYNTHESIS_DELIVER_LATE_REPLIES: 'off' }).deliverLateReplies).toBe(false);
    expect(loadConfig([], { SYNTHESIS_E2E_REQUIRED: 'yes' }).e2eRequired).toBe(true);
  });

  it.each([
    [['--port', '99999'], /port \(--port \/ SYNTHESIS_PORT\)/],
    [['--port', 'abc'], /port/],
    [['--reply-mode', 'sometimes'], /replyMode/],
    [['--pairing-code-ttl-s', '10'], /pairingCodeTtlS/],
    [['--no-such-flag'], /no-such-flag/],
    [['--config', '/nonexistent/c.json'], /cannot read config file/],
  ])('refuses %j with a message naming the problem', (argv, message) => {
    expect(() => loadConfig(argv as string[], {})).toThrow(ConfigError);
    expect(() => loadConfig(argv as string[], {})).toThrow(message);
  });

  it('refuses a config file with unknown keys or the wrong shape', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const unknown = path.join(dir, 'u.json');
    writeFileSync(unknown, JSON.stringify({ prot: 1 }));
    expect(() => loadConfig(['--config', unknown], {})).toThrow(/prot/);
    const array = path.join(dir, 'a.json');
    writeFileSync(array, '[1]');
    expect(() => loadConfig(['--config', array], {})).toThrow(/JSON object/);
  });

  it('redacts secrets and lists every option in --help', () => {
    const config = loadConfig(['--api-key', 'sk-secret', '--web-token', 'tok'], {});
    const shown = JSON.stringify(redactConfig(config));
    expect(shown).not.toContain('sk-secret');
    expect(shown).not.toContain('"tok"');
    expect(shown).toContain('<redacted>');
    const help = helpText();
    for (const flag of ['--port', '--bridge-port', '--claude-arg', '--heartbeat-ms', '--queue-depth', '--log-level']) expect(help).toContain(flag);
    expect(help).toContain('(default: 18900)');
  });

  it('keeps docs/configuration.md in sync with the option table', () => {
    expect(() => execFileSync(process.execPath, [path.join(ROOT, 'scripts/gen-config-docs.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
