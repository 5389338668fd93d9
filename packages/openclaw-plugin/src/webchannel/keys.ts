/**
 * The webchannel's long-lived secrets, kept in <stateDir>/webchannel-key (mode 0600) so access
 * tokens and the E2E keys of paired browsers survive restarts: the HS256 secret that signs access
 * tokens and the gateway's X25519 secret key. Deleting the file unpairs every browser.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { base64UrlDecode, base64UrlEncode } from '@synthesis-agent/protocol';
import { z } from 'zod';

export const KEY_FILE = 'webchannel-key';

export interface WebchannelKeys {
  jwtSecret: Uint8Array;
  agentSecret: Uint8Array;
  agentPub: Uint8Array;
}

const key32 = z
  .string()
  .transform((s) => base64UrlDecode(s))
  .refine((b) => b.length === 32, 'expected 32 bytes');
const KeyFileSchema = z.object({ version: z.literal(1), jwt_secret: key32, agent_secret: key32 });

export async function loadOrCreateKeys(stateDir: string): Promise<WebchannelKeys> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, KEY_FILE);
  const fresh = { version: 1, jwt_secret: base64UrlEncode(randomBytes(32)), agent_secret: base64UrlEncode(randomBytes(32)) };
  try {
    // 'wx' creates only if absent, so two gateways starting at once cannot overwrite each other.
    await writeFile(file, `${JSON.stringify(fresh)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let parsed;
  try {
    parsed = KeyFileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    // Never replace it silently: that would unpair every browser without saying why.
    throw new Error(`${file} is unreadable (${(err as Error).message}); delete it to create new keys (browsers must pair again)`);
  }
  return { jwtSecret: parsed.jwt_secret, agentSecret: parsed.agent_secret, agentPub: x25519.getPublicKey(parsed.agent_secret) };
}
