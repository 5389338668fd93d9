import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeKey, generateKeyPair } from '@synthesis-agent/protocol';
import { KEY_FILE_NAME, KeyFileError, loadOrCreateKeyPair } from '../../packages/openclaw-plugin/src/reasoning/keys.js';
import { discoverSkills } from '../../packages/openclaw-plugin/src/reasoning/capabilities.js';
import { captureLogs } from '../fixtures/dist/reasoning-backend/log-capture.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reasoning-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('reasoning key pair', () => {
  it('is created once with mode 0600 in a new state dir, then read back unchanged', () => {
    const stateDir = path.join(dir, 'nested', 'state');
    const logs = captureLogs();
    const first = loadOrCreateKeyPair(stateDir, logs.logger);
    const file = path.join(stateDir, KEY_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ version: 1, public_key: encodeKey(first.publicKey) });
    const again = loadOrCreateKeyPair(stateDir, logs.logger);
    expect(encodeKey(again.secretKey)).toBe(encodeKey(first.secretKey));
    // The public key is logged for pairing; the secret key never is.
    expect(logs.text()).toContain(encodeKey(first.publicKey));
    expect(logs.text()).not.toContain(encodeKey(first.secretKey));
  });

  it('puts loosened permissions back to 0600', () => {
    const logs = captureLogs();
    loadOrCreateKeyPair(dir, logs.logger);
    const file = path.join(dir, KEY_FILE_NAME);
    chmodSync(file, 0o644);
    loadOrCreateKeyPair(dir, logs.logger);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(logs.lines.some((l) => String(l.msg).includes('reset to 0600'))).toBe(true);
  });

  it('refuses a damaged file instead of silently making a new key pair', () => {
    const { logger } = captureLogs();
    const file = path.join(dir, KEY_FILE_NAME);
    writeFileSync(file, '{"version":1', { mode: 0o600 });
    expect(() => loadOrCreateKeyPair(dir, logger)).toThrow(KeyFileError);
    const a = generateKeyPair();
    const b = generateKeyPair();
    const mismatched = { version: 1, secret_key: encodeKey(a.secretKey), public_key: encodeKey(b.publicKey), created_at: 'x' };
    writeFileSync(file, JSON.stringify(mismatched));
    expect(() => loadOrCreateKeyPair(dir, logger)).toThrow(/does not belong to secret_key/);
    expect(readFileSync(file, 'utf8')).toBe(JSON.stringify(mismatched));
  });
});

describe('discoverSkills', () => {
  it('lists skill directories with a SKILL.md from the user and workspace skill roots', () => {
    const configDir = path.join(dir, 'claude-config');
    const workspace = path.join(dir, 'ws');
    const make = (root: string, name: string, withSkillFile = true) => {
      mkdirSync(path.join(root, name), { recursive: true });
      if (withSkillFile) writeFileSync(path.join(root, name, 'SKILL.md'), '---\nname: x\n---\n');
    };
    make(path.join(configDir, 'skills'), 'summarise');
    make(path.join(configDir, 'skills'), 'half-made', false);
    make(path.join(workspace, '.claude', 'skills'), 'analyse');
    make(path.join(workspace, '.claude', 'skills'), 'summarise');
    expect(discoverSkills(workspace, { CLAUDE_CONFIG_DIR: configDir })).toEqual(['analyse', 'summarise']);
    expect(discoverSkills(path.join(dir, 'missing'), { CLAUDE_CONFIG_DIR: path.join(dir, 'none') })).toEqual([]);
  });
});
