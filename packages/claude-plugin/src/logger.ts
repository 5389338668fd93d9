import { pino, type Logger } from 'pino';
import type { LogLevel } from './env.js';

export type { Logger };

/**
 * stdout carries MCP frames for Claude Code, so every log line goes to stderr. Writes are
 * synchronous because the process often exits right after its last line (stdin closed, signal).
 */
export function createLogger(level: LogLevel, claudeSession: string): Logger {
  return pino(
    { name: 'synthesis-claude-plugin', level, base: { pid: process.pid, claude_session: claudeSession } },
    pino.destination({ dest: 2, sync: true }),
  );
}
