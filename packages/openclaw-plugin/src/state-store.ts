/**
 * The session map on disk: session key → Claude session id, workspace, last use. It lets a
 * restarted gateway `--resume` each conversation. Written atomically (temp file + rename) so a
 * crash mid-write leaves the previous complete file, never a torn one.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from './logger.js';

export const PersistedSessionSchema = z.object({
  claudeSessionId: z.string().min(1),
  workspace: z.string().min(1),
  lastUsed: z.string(),
  /** True once Claude has a transcript for this id, i.e. `--resume` can work. */
  hasTranscript: z.boolean(),
});
export type PersistedSession = z.infer<typeof PersistedSessionSchema>;

const StateFileSchema = z.object({ version: z.literal(1), sessions: z.record(z.string(), PersistedSessionSchema) });

export class StateStore {
  readonly file: string;

  constructor(stateDir: string, private readonly logger: Logger) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.file = path.join(stateDir, 'sessions.json');
  }

  load(): Map<string, PersistedSession> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return new Map();
    }
    try {
      const parsed = StateFileSchema.parse(JSON.parse(text));
      return new Map(Object.entries(parsed.sessions));
    } catch (err) {
      // A corrupt map must not stop the gateway; conversations then start fresh.
      this.logger.warn({ err, file: this.file }, 'session state file unreadable; starting with an empty session map');
      return new Map();
    }
  }

  /**
   * Writes the map as it is when called. Off the event loop: an fsync takes milliseconds, which
   * every turn in flight would otherwise wait out. Callers run one save at a time (they share the
   * temp file name).
   */
  async save(sessions: Map<string, PersistedSession>): Promise<void> {
    const body = JSON.stringify({ version: 1, sessions: Object.fromEntries(sessions) }, null, 2);
    const tmp = `${this.file}.${process.pid}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(body);
      // On disk before the rename: after a machine crash the name points at complete content.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file);
  }
}
