import { execFile } from 'node:child_process';

/** How long `claude --version` may take (it answers in ~0.1 s; claude-code-facts.md). */
const VERSION_TIMEOUT_MS = 5_000;

/** The first line `<command> --version` prints, or undefined when it fails or hangs. */
export function readClaudeVersion(command: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, ['--version'], { timeout: VERSION_TIMEOUT_MS }, (err, stdout) => {
      resolve(err ? undefined : stdout.trim().split('\n')[0] || undefined);
    });
  });
}
