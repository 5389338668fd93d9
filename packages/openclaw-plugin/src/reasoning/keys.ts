/**
 * Our X25519 key pair for BYO pairing, kept at <stateDir>/reasoning-x25519.json (mode 0600).
 * It is made once and then only read: a new key pair would silently break an existing pairing, so
 * an unreadable file is an error to fix, not a reason to generate another.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeKey, encodeKey, generateKeyPair, publicKeyOf, type X25519KeyPair } from '@synthesis-agent/protocol';
import { z } from 'zod';
import type { Logger } from '../logger.js';

export const KEY_FILE_NAME = 'reasoning-x25519.json';

const KeyFileSchema = z.strictObject({
  version: z.literal(1),
  secret_key: z.string(),
  public_key: z.string(),
  created_at: z.string(),
});

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

export function loadOrCreateKeyPair(stateDir: string, logger: Logger): X25519KeyPair {
  const file = path.join(stateDir, KEY_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeyFileError(`cannot read ${file}: ${(err as Error).message}`);
    return createKeyPair(stateDir, file, logger);
  }
  const keys = parseKeyFile(file, text);
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    // Someone loosened it (copy, restore from backup); the secret key must stay owner-only.
    chmodSync(file, 0o600);
    logger.warn({ file, mode: mode.toString(8) }, 'reasoning key file was readable by others; reset to 0600');
  }
  return keys;
}

function parseKeyFile(file: string, text: string): X25519KeyPair {
  try {
    const stored = KeyFileSchema.parse(JSON.parse(text));
    const secretKey = decodeKey(stored.secret_key, 'secret_key');
    const publicKey = publicKeyOf(secretKey);
    if (encodeKey(publicKey) !== encodeKey(decodeKey(stored.public_key, 'public_key'))) {
      throw new Error('public_key does not belong to secret_key');
    }
    return { secretKey, publicKey };
  } catch (err) {
    throw new KeyFileError(
      `reasoning key file ${file} is invalid (${(err as Error).message}); restore it, or delete it to make a new key pair and pair again`,
    );
  }
}

function createKeyPair(stateDir: string, file: string, logger: Logger): X25519KeyPair {
  const keys = generateKeyPair();
  const stored = {
    version: 1,
    secret_key: encodeKey(keys.secretKey),
    public_key: encodeKey(keys.publicKey),
    created_at: new Date().toISOString(),
  } satisfies z.input<typeof KeyFileSchema>;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // Written under a temporary name and renamed, so a crash never leaves a half-written key file
  // that the next start would refuse.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  logger.info({ file, publicKey: stored.public_key }, 'created reasoning X25519 key pair');
  return keys;
}
