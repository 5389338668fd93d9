/**
 * Who sent a user_message or approval_response. Pairing mode: a valid access token (top-level or
 * in the payload), plus the browser's E2E key when it paired with a public key. Token mode: the
 * configured channel token, compared in constant time; E2E needs pairing, so there is none.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { base64UrlDecode, deriveE2eKey, E2eError, type Envelope } from '@synthesis-agent/protocol';
import type { GatewayConfig } from '../config.js';
import { safeEqual } from '../safe-equal.js';
import type { AccessTokens } from './tokens.js';

export interface Identity {
  clientId: string;
  /** Present once E2E is established: every assistant_* to this client is sealed with it. */
  e2eKey?: Uint8Array;
}

export interface Credentials {
  access_token?: string | undefined;
  auth_token?: string | undefined;
}

/** Identity of a token-mode sender: every holder of the channel token is the same principal. */
const TOKEN_CLIENT_ID = 'local-token';

export type Authenticate = (credentials: Credentials) => Promise<Identity | undefined>;

/** The spec lets credentials sit at the top level of the envelope or inside its payload. */
export function credentialsOf(envelope: Envelope): Credentials {
  const payload = envelope.payload ?? {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    access_token: envelope.access_token ?? text(payload.access_token),
    auth_token: envelope.auth_token ?? text(payload.auth_token),
  };
}

export function createAuthenticator(config: GatewayConfig, tokens: AccessTokens, agentSecret: Uint8Array): Authenticate {
  if (config.webAuth === 'token') {
    const expected = config.webToken;
    if (!expected) throw new Error('webchannel token mode needs --web-token (SYNTHESIS_WEB_TOKEN)');
    return async ({ auth_token: given }) => {
      return given !== undefined && safeEqual(given, expected) ? { clientId: TOKEN_CLIENT_ID } : undefined;
    };
  }
  return async ({ access_token: token }) => {
    const claims = token === undefined ? undefined : await tokens.verify(token);
    if (!claims) return undefined;
    if (claims.clientPub === undefined) return { clientId: claims.clientId };
    return { clientId: claims.clientId, e2eKey: clientE2eKey(agentSecret, claims.clientPub) };
  };
}

/** The E2E key shared with the browser holding `clientPub`; throws E2eError for an unusable key. */
export function clientE2eKey(agentSecret: Uint8Array, clientPub: string): Uint8Array {
  const pub = base64UrlDecode(clientPub);
  if (pub.length !== 32) throw new E2eError('client_pub must be a 32-byte X25519 key');
  try {
    return deriveE2eKey(x25519.getSharedSecret(agentSecret, pub));
  } catch {
    // noble refuses low-order points, whose shared secret an attacker could predict.
    throw new E2eError('client_pub is not a usable X25519 key');
  }
}
