/**
 * BYO ("bring your own") encryption of reasoning-job payloads and results, so a relaying backend
 * never sees plaintext:
 *
 *   shared = X25519(our secret key, peer public key)
 *   key    = HKDF-SHA256(ikm = shared, salt = none (RFC 5869: 32 zero bytes), info = label, L = 32)
 *   box    = XChaCha20-Poly1305(key, nonce = 24 random bytes, no AAD)
 *
 * Both sides derive the same key, so one key serves both directions; random 192-bit nonces make a
 * collision between the two directions negligible. The info label is configurable because it must
 * match the backend byte for byte. On the wire, `ciphertext` (with the 16-byte tag appended) and
 * `nonce` are standard base64; keys are base64url. Decoders accept either alphabet.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { ByoEnvelope } from './reasoning.js';

export const X25519_KEY_BYTES = 32;
export const BYO_NONCE_BYTES = 24;

export interface X25519KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** Any failure to open a box or use a key; callers turn it into a failed result, never a crash. */
export class ByoCryptoError extends Error {
  override name = 'ByoCryptoError';
}

export function generateKeyPair(): X25519KeyPair {
  return x25519.keygen();
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

export function encodeKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64url');
}

/** Decodes a base64/base64url X25519 key, refusing anything that is not exactly 32 bytes. */
export function decodeKey(text: string, what = 'key'): Uint8Array {
  const bytes = decodeBase64(text);
  if (bytes.length !== X25519_KEY_BYTES) {
    throw new ByoCryptoError(`${what} must be ${X25519_KEY_BYTES} bytes of base64url, got ${bytes.length} bytes`);
  }
  return bytes;
}

/** The symmetric key shared with the peer; throws ByoCryptoError for a low-order public key. */
export function deriveByoKey(ourSecretKey: Uint8Array, peerPublicKey: Uint8Array, info: string): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(ourSecretKey, peerPublicKey);
  } catch (err) {
    throw new ByoCryptoError(`X25519 key agreement failed: ${(err as Error).message}`);
  }
  return hkdf(sha256, shared, undefined, new TextEncoder().encode(info), X25519_KEY_BYTES);
}

export function encryptByo(key: Uint8Array, plaintext: string): ByoEnvelope {
  const nonce = randomBytes(BYO_NONCE_BYTES);
  const ciphertext = xchacha20poly1305(key, nonce).encrypt(new TextEncoder().encode(plaintext));
  return { ciphertext: Buffer.from(ciphertext).toString('base64'), nonce: Buffer.from(nonce).toString('base64') };
}

export function decryptByo(key: Uint8Array, envelope: ByoEnvelope): string {
  const nonce = decodeBase64(envelope.nonce);
  if (nonce.length !== BYO_NONCE_BYTES) {
    throw new ByoCryptoError(`nonce must be ${BYO_NONCE_BYTES} bytes, got ${nonce.length}`);
  }
  let plaintext: Uint8Array;
  try {
    plaintext = xchacha20poly1305(key, nonce).decrypt(decodeBase64(envelope.ciphertext));
  } catch {
    // noble's message names the failed tag check; say what it means for the caller.
    throw new ByoCryptoError('ciphertext failed authentication (tampered, or encrypted with another key)');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
  } catch {
    throw new ByoCryptoError('decrypted payload is not UTF-8');
  }
}

function decodeBase64(text: string): Uint8Array {
  // Buffer's base64 decoder takes both alphabets and skips padding.
  return new Uint8Array(Buffer.from(text, 'base64'));
}
