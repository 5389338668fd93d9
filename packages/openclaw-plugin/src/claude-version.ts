/**
 * Start-up check of the Claude Code CLI the gateway will launch: present, runnable, and new enough
 * for channels. Failing here gives one actionable error instead of every session failing later.
 */
import { execa } from 'execa';

/** Channels (notifications/claude/channel, --dangerously-load-development-channels) arrived in 2.1.80. */
export const MIN_CLAUDE_VERSION = '2.1.80';

const VERSION_TIMEOUT_MS = 15_000;

/** Numeric comparison of dotted versions ("2.1.80" > "2.1.9"); missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * Runs `<command> --version` and returns the version; throws an Error saying what to do when the
 * command is missing, fails, prints something unexpected, or is older than MIN_CLAUDE_VERSION.
 * `env` replaces nothing: it is added to the gateway's own environment, as for the real launch.
 */
export async function checkClaudeVersion(command: string, env?: NodeJS.ProcessEnv): Promise<{ version: string }> {
  const result = await execa(command, ['--version'], {
    env,
    reject: false,
    timeout: VERSION_TIMEOUT_MS,
    stdin: 'ignore',
  });
  const err = result as typeof result & { code?: string };
  if (err.code === 'ENOENT') {
    throw new Error(
      `${command} not found${/[\\/]/.test(command) ? '' : ' on PATH'}; ` +
        'install with npm i -g @anthropic-ai/claude-code or pass --claude-command',
    );
  }
  if (result.timedOut) {
    throw new Error(`\`${command} --version\` did not answer within ${VERSION_TIMEOUT_MS / 1000} s; check the installation or pass --claude-command`);
  }
  const output = `${result.stdout}\n${result.stderr}`.trim();
  if (result.failed) {
    const why = result.exitCode !== undefined ? `exited with code ${result.exitCode}` : (result.shortMessage ?? 'failed');
    throw new Error(
      `\`${command} --version\` ${why}${output ? `: ${lastLine(output)}` : ''}. ` +
        'If this is an npm install made with --ignore-scripts, run `npm rebuild @anthropic-ai/claude-code`; ' +
        'otherwise reinstall with npm i -g @anthropic-ai/claude-code or pass --claude-command',
    );
  }
  const version = /^(\d+\.\d+\.\d+)\s+\(Claude Code\)/m.exec(result.stdout)?.[1];
  if (!version) {
    throw new Error(
      `\`${command} --version\` printed ${JSON.stringify(lastLine(output))}, not "X.Y.Z (Claude Code)"; ` +
        'pass --claude-command pointing at the Claude Code CLI',
    );
  }
  if (compareVersions(version, MIN_CLAUDE_VERSION) < 0) {
    throw new Error(
      `Claude Code ${version} is too old: channels need ${MIN_CLAUDE_VERSION} or newer. ` +
        'Update with npm i -g @anthropic-ai/claude-code@latest (or `claude update`)',
    );
  }
  return { version };
}

function lastLine(text: string): string {
  return text.split('\n').filter((l) => l.trim() !== '').pop() ?? '';
}
