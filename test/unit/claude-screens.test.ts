/**
 * The screen classifier against real renders of Claude Code 2.1.330 (captured with TerminalScreen
 * from a PTY; how each was provoked is in docs/claude-code.md). Temp paths in the captures are
 * normalised to XXXXXX, session ids to zeros.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyScreen, type ScreenKind } from '../../packages/openclaw-plugin/src/claude-screens.js';
import { TerminalScreen } from '../../packages/openclaw-plugin/src/terminal-screen.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/screens');
const screen = (name: string) => readFileSync(path.join(DIR, name), 'utf8');

const DOWN_ENTER = '\x1b[B\r';

/** Every captured screen and what it must classify as (undefined: not a screen to act on). */
const EXPECTED: Record<string, ScreenKind | undefined> = {
  'development-channels.txt': 'development_channels',
  'development-channels-80x24.txt': 'development_channels',
  'trust.txt': 'trust',
  'trust-yes-selected.txt': 'trust',
  'trust-80x24.txt': 'trust',
  'untrusted-exit.txt': 'trust_refused',
  'api-key.txt': 'api_key',
  'onboarding-theme.txt': 'onboarding',
  'onboarding-security-notes.txt': 'onboarding',
  'unable-to-connect.txt': 'unable_to_connect',
  'not-logged-in.txt': 'login',
  'api-401-retrying.txt': 'invalid_api_key',
  'invalid-api-key.txt': 'invalid_api_key',
  'bypass-permissions.txt': 'bypass_permissions',
  'skip-permissions-root.txt': 'skip_permissions_root',
  'session-id-in-use.txt': 'session_in_use',
  'resume-not-found.txt': 'resume_not_found',
  'resume-picker.txt': 'resume_picker',
  'permission-prompt.txt': 'permission_prompt',
  // A first failed attempt says only "API error · retrying"; it may be transient.
  'api-retrying.txt': undefined,
  'ready.txt': undefined,
  'ready-after-reply.txt': undefined,
  // Shows the (spurious) "server:chan · no MCP server configured with that name" notice.
  'ready-manual-mode.txt': undefined,
};

const ANSWERED: ScreenKind[] = ['development_channels', 'trust'];

describe('classifyScreen on captured screens', () => {
  it('has an expectation for every captured screen', () => {
    const captured = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
    expect(captured.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, kind] of Object.entries(EXPECTED)) {
    it(`${file} -> ${kind ?? 'nothing'}`, () => {
      for (const trustWorkspace of [false, true]) {
        const match = classifyScreen(screen(file), { trustWorkspace });
        expect(match?.kind).toBe(kind);
        if (!match) continue;
        // A screen is either answered or explained, never both and never neither.
        expect(match.answer === undefined).toBe(match.fix !== undefined);
        if (!ANSWERED.includes(match.kind)) expect(match.fix!.length).toBeGreaterThan(40);
      }
    });
  }

  it('accepts the development-channels dialog with "1", which cannot pick Exit', () => {
    expect(classifyScreen(screen('development-channels.txt'))).toEqual({ kind: 'development_channels', answer: '1' });
    expect(classifyScreen(screen('development-channels-80x24.txt'))?.answer).toBe('1');
  });

  it('answers the trust dialog only when the workspace is trusted by configuration', () => {
    const untrusted = classifyScreen(screen('trust.txt'));
    expect(untrusted?.answer).toBeUndefined();
    expect(untrusted?.fix).toMatch(/--trust-workspace <dir>/);
    expect(classifyScreen(screen('trust.txt'), { trustWorkspace: false })?.answer).toBeUndefined();
  });

  it('answers the trust dialog from where the cursor is: "No, exit" is preselected and Down wraps', () => {
    expect(classifyScreen(screen('trust.txt'), { trustWorkspace: true })).toEqual({ kind: 'trust', answer: DOWN_ENTER });
    expect(classifyScreen(screen('trust-80x24.txt'), { trustWorkspace: true })?.answer).toBe(DOWN_ENTER);
    expect(classifyScreen(screen('trust-yes-selected.txt'), { trustWorkspace: true })?.answer).toBe('\r');
  });

  it('reports a refused trust dialog as such, not as a dialog to answer', () => {
    const match = classifyScreen(screen('untrusted-exit.txt'), { trustWorkspace: true });
    expect(match).toMatchObject({ kind: 'trust_refused' });
    expect(match?.answer).toBeUndefined();
  });

  it('gives needs-a-human screens a fix that names the remedy', () => {
    const fix = (file: string) => classifyScreen(screen(file))?.fix ?? '';
    expect(fix('api-key.txt')).toMatch(/customApiKeyResponses\.approved/);
    expect(fix('not-logged-in.txt')).toMatch(/\/login/);
    expect(fix('not-logged-in.txt')).toMatch(/ANTHROPIC_API_KEY/);
    expect(fix('onboarding-theme.txt')).toMatch(/run `claude` once/i);
    expect(fix('bypass-permissions.txt')).toMatch(/skipDangerousModePermissionPrompt/);
    expect(fix('skip-permissions-root.txt')).toMatch(/IS_SANDBOX=1/);
    expect(fix('session-id-in-use.txt')).toMatch(/--resume <id>/);
    expect(fix('resume-not-found.txt')).toMatch(/~\/\.claude\/projects/);
    expect(fix('permission-prompt.txt')).toMatch(/--allowedTools/);
    expect(fix('api-401-retrying.txt')).toMatch(/401/);
  });

  it('does not mistake a chat message quoting a dialog for the dialog', () => {
    const base = screen('ready-after-reply.txt');
    expect(base).toContain('← chan: hello');
    for (const quote of [
      'Do you want to use this API key?',
      'Yes, I trust this folder',
      '1. I am using this for local development',
      'Do you want to proceed?',
      'Security notes:',
    ]) {
      expect(classifyScreen(base.replace('← chan: hello', `← chan: ${quote}`), { trustWorkspace: true })).toBeUndefined();
    }
  });

  it('ignores text that is not a Claude Code screen', () => {
    expect(classifyScreen('')).toBeUndefined();
    expect(classifyScreen('$ ls\nREADME.md\n')).toBeUndefined();
  });
});

describe('TerminalScreen', () => {
  let term: TerminalScreen | undefined;
  afterEach(() => {
    term?.dispose();
    term = undefined;
  });

  it('renders a recorded PTY start-up (trust, channels dialog, ready) screen by screen', async () => {
    const raw = JSON.parse(screen('start-sequence.raw.json')) as Record<'trust' | 'development_channels' | 'ready', string[]>;
    term = new TerminalScreen(120, 40);
    for (const chunk of raw.trust) await term.write(chunk);
    expect(term.text()).toContain('Accessing workspace:');
    expect(classifyScreen(term.text(), { trustWorkspace: true })).toEqual({ kind: 'trust', answer: DOWN_ENTER });

    for (const chunk of raw.development_channels) await term.write(chunk);
    expect(classifyScreen(term.text(), { trustWorkspace: true })).toEqual({ kind: 'development_channels', answer: '1' });

    for (const chunk of raw.ready) await term.write(chunk);
    expect(term.text()).toMatch(/Claude Code v2\.1\.330/);
    expect(classifyScreen(term.text(), { trustWorkspace: true })).toBeUndefined();
    expect(term.lastLines(1)).toMatch(/auto mode on/);
  });

  it('right-trims painted padding and drops trailing blank lines', async () => {
    term = new TerminalScreen(40, 6);
    await term.write('\x1b[44mtitle      \x1b[0m\r\n\r\nbody\r\n\r\n');
    expect(term.text()).toBe('title\n\nbody');
    expect(term.lastLines(1)).toBe('body');
    expect(term.lastLines(5)).toBe('title\nbody');
  });

  it('shows what a full-screen redraw left, not the bytes that were overwritten', async () => {
    term = new TerminalScreen(40, 4);
    await term.write('Loading development channels\r\n');
    await term.write('\x1b[H\x1b[2JReady');
    expect(term.text()).toBe('Ready');
  });
});
