/**
 * The persisted session map: round trip, atomic replacement, and a gateway that still starts when
 * the file is damaged.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../packages/openclaw-plugin/src/logger.js';
import { StateStore, type PersistedSession } from '../../packages/openclaw-plugin/src/state-store.js';

let root: string;
let logs: { level: number; msg: string }[];

function store(dir = path.join(root, 'state')): StateStore {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  return new StateStore(dir, createLogger({ logLevel: 'info', logFormat: 'json' }, sink));
}

const session = (id: string, hasTranscript = true): PersistedSession => ({
  claudeSessionId: id,
  workspace: '/srv/work',
  lastUsed: '2026-11-22T10:00:00.000Z',
  hasTranscript,
});

/** pino writes asynchronously to a stream; let it flush before reading `logs`. */
const flushed = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'state-store-'));
  logs = [];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('StateStore', () => {
  it('creates a private state dir and starts empty without a file', () => {
    const s = store();
    expect(s.load().size).toBe(0);
    expect(statSync(path.join(root, 'state')).mode & 0o777).toBe(0o700);
  });

  it('round-trips the session map into a private file', async () => {
    const s = store();
    const map = new Map([
      ['agent::chat-1', session('11111111-1111-4111-8111-111111111111')],
      ['agent::chat-2', session('22222222-2222-4222-8222-222222222222', false)],
    ]);
    await s.save(map);
    expect(store().load()).toEqual(map);
    expect(statSync(s.file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(s.file, 'utf8'))).toMatchObject({ version: 1 });
  });

  it('replaces the file by rename and leaves no temp file behind', async () => {
    const s = store();
    await s.save(new Map([['k', session('a')]]));
    const inode = statSync(s.file).ino;
    await s.save(new Map([['k', session('b')]]));
    expect(statSync(s.file).ino).not.toBe(inode);
    expect(readdirSync(path.dirname(s.file))).toEqual(['sessions.json']);
    expect(s.load().get('k')?.claudeSessionId).toBe('b');
  });

  it('keeps the previous complete file when a write fails part way', async () => {
    const s = store();
    await s.save(new Map([['k', session('kept')]]));
    // The temp file cannot be created: the write fails before the real file is touched.
    mkdirSync(`${s.file}.${process.pid}.tmp`);
    await expect(s.save(new Map([['k', session('lost')]]))).rejects.toThrow();
    expect(store().load().get('k')?.claudeSessionId).toBe('kept');
  });

  it('ignores a temp file a crash left behind', async () => {
    const s = store();
    await s.save(new Map([['k', session('complete')]]));
    writeFileSync(`${s.file}.99999.tmp`, '{"version":1,"sessions":{"k":{"claudeSess');
    expect(store().load().get('k')?.claudeSessionId).toBe('complete');
  });

  it.each([
    ['torn JSON', '{"version":1,"sessions":{"k":{"claudeSess'],
    ['another version', JSON.stringify({ version: 2, sessions: {} })],
    ['a bad entry', JSON.stringify({ version: 1, sessions: { k: { claudeSessionId: '' } } })],
    ['not an object', '[]'],
  ])('starts with an empty map and a warning when the file holds %s', async (_name, text) => {
    const s = store();
    writeFileSync(s.file, text);
    expect(s.load().size).toBe(0);
    await flushed();
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 40, msg: 'session state file unreadable; starting with an empty session map', file: s.file }),
    );
    // The next save replaces the damaged file with a valid one.
    await s.save(new Map([['k', session('fresh')]]));
    expect(store().load().get('k')?.claudeSessionId).toBe('fresh');
  });
});
