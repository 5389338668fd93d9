/**
 * webchannel E2E (`x25519-chacha20poly1305-v1`), the half both sides share:
 *
 *   key = SHA-256("webchannel-e2e-v1" || X25519 shared secret)
 *   box = ChaCha20-Poly1305(key, nonce = 12 random bytes, no AAD) of JSON {content, sender_id?}
 *
 * The X25519 agreement itself is not here: the gateway does it with @noble/curves and the browser
 * with WebCrypto, and both feed the raw shared secret to `deriveE2eKey`. Pure JS with no Buffer,
 * so the same code runs in the browser bundle. One key serves both directions; with random 96-bit
 * nonces that stays safe far beyond any chat's message count (collisions near 2^48 messages).
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { E2E_ALG, E2eMessageSchema, type E2eBox, type E2eMessage } from './webchannel.js';

export const E2E_KEY_BYTES = 32;
export const E2E_NONCE_BYTES = 12;
const KDF_LABEL = new TextEncoder().encode('webchannel-e2e-v1');

/** Any failure to decode, decrypt or validate a box; callers answer with an error, never crash. */
export class E2eError extends Error {
  override name = 'E2eError';
}

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Strict base64url (padding tolerated); throws E2eError on any other character. */
export function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    throw new E2eError('not base64url');
  }
  const binary = atob(text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function deriveE2eKey(sharedSecret: Uint8Array): Uint8Array {
  const input = new Uint8Array(KDF_LABEL.length + sharedSecret.length);
  input.set(KDF_LABEL);
  input.set(sharedSecret, KDF_LABEL.length);
  return sha256(input);
}

export function sealE2e(key: Uint8Array, message: E2eMessage): E2eBox {
  const nonce = randomBytes(E2E_NONCE_BYTES);
  const ciphertext = chacha20poly1305(key, nonce).encrypt(new TextEncoder().encode(JSON.stringify(message)));
  return { alg: E2E_ALG, nonce: base64UrlEncode(nonce), ciphertext: base64UrlEncode(ciphertext) };
}

/** Decrypts and validates a box; throws E2eError if it was tampered with, mis-keyed or malformed. */
export function openE2e(key: Uint8Array, box: E2eBox): E2eMessage {
  const nonce = base64UrlDecode(box.nonce);
  if (nonce.length !== E2E_NONCE_BYTES) throw new E2eError(`nonce must be ${E2E_NONCE_BYTES} bytes`);
  let plaintext: Uint8Array;
  try {
    plaintext = chacha20poly1305(key, nonce).decrypt(base64UrlDecode(box.ciphertext));
  } catch {
    throw new E2eError('authentication failed');
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw new E2eError('plaintext is not UTF-8 JSON');
  }
  const result = E2eMessageSchema.safeParse(json);
  if (!result.success) throw new E2eError('plaintext is not {content, sender_id?}');
  return result.data;
}
