/**
 * Access tokens of paired browsers: HS256 JWTs signed with the persisted secret. The token carries
 * the browser's X25519 public key (`cpub`), so the gateway can re-derive that browser's E2E key on
 * any connection or after a restart without storing per-client state.
 */
import { jwtVerify, SignJWT } from 'jose';

const ISSUER = 'synthesis-agent';
const AUDIENCE = 'webchannel';

export interface TokenClaims {
  clientId: string;
  /** base64url X25519 public key the browser paired with; absent when it paired without E2E. */
  clientPub?: string;
}

export class AccessTokens {
  constructor(
    private readonly secret: Uint8Array,
    readonly ttlS: number,
  ) {}

  issue(claims: TokenClaims): Promise<string> {
    return new SignJWT(claims.clientPub ? { cpub: claims.clientPub } : {})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.clientId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlS}s`)
      .sign(this.secret);
  }

  /** The claims of a valid, unexpired token; undefined for anything else. */
  async verify(token: string): Promise<TokenClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp'],
      });
      if (typeof payload.sub !== 'string') return undefined;
      return typeof payload.cpub === 'string' ? { clientId: payload.sub, clientPub: payload.cpub } : { clientId: payload.sub };
    } catch {
      return undefined;
    }
  }
}
