/**
 * The browser's half of webchannel E2E: X25519 through WebCrypto, whose private key never leaves
 * the browser's crypto store (non-extractable). The shared secret then goes through the same
 * `deriveE2eKey` the gateway uses, from @synthesis-agent/protocol.
 */
import { base64UrlDecode, base64UrlEncode, deriveE2eKey } from '@synthesis-agent/protocol';

export interface ClientKeyPair {
  privateKey: CryptoKey;
  /** base64url raw public key, sent as client_pub. */
  publicKey: string;
}

const X25519 = { name: 'X25519' } as const;

/**
 * A fresh key pair, or undefined where WebCrypto has no X25519: older browsers, and pages not in
 * a secure context (plain http on a non-loopback host), which have no `crypto.subtle` at all.
 */
export async function generateClientKeyPair(): Promise<ClientKeyPair | undefined> {
  try {
    const pair = (await crypto.subtle.generateKey(X25519, false, ['deriveBits'])) as CryptoKeyPair;
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    return { privateKey: pair.privateKey, publicKey: base64UrlEncode(raw) };
  } catch {
    return undefined;
  }
}

/** The E2E key shared with the gateway whose public key is `agentPub` (base64url). */
export async function deriveClientKey(privateKey: CryptoKey, agentPub: string): Promise<Uint8Array> {
  const agentKey = await crypto.subtle.importKey('raw', base64UrlDecode(agentPub), X25519, false, []);
  const shared = await crypto.subtle.deriveBits({ name: 'X25519', public: agentKey }, privateKey, 256);
  return deriveE2eKey(new Uint8Array(shared));
}
