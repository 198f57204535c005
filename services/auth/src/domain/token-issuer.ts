import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import {
  ACCESS_TOKEN_ALG,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  createTokenVerifier,
  type Caller,
  type TokenVerifier,
} from '@parley/platform';

export interface IssuedAccessToken {
  token: string;
  expiresAt: Date;
}

/** Signs access tokens with the configured Ed25519 key and publishes its public half. */
export class TokenIssuer {
  private constructor(
    private readonly key: CryptoKey | Uint8Array,
    private readonly publicJwk: JWK & { kid: string },
    private readonly accessTtlSeconds: number,
  ) {}

  static async fromJwk(json: string, accessTtlSeconds: number): Promise<TokenIssuer> {
    let jwk: JWK;
    try {
      jwk = JSON.parse(json) as JWK;
    } catch {
      throw new Error('AUTH_SIGNING_KEY is not valid JSON');
    }
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.x || !jwk.kid) {
      throw new Error('AUTH_SIGNING_KEY must be an Ed25519 private JWK with kty OKP, crv Ed25519, d, x and kid');
    }
    const key = await importJWK(jwk, ACCESS_TOKEN_ALG);
    return new TokenIssuer(key, { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwk.kid }, accessTtlSeconds);
  }

  get jwks(): (JWK & { kid: string })[] {
    return [this.publicJwk];
  }

  /** Auth checks its own tokens without a network hop. */
  verifier(): TokenVerifier {
    return createTokenVerifier(async () => this.jwks);
  }

  async accessToken(caller: Caller, now = new Date()): Promise<IssuedAccessToken> {
    const issuedAt = Math.floor(now.getTime() / 1000);
    const expiresAt = issuedAt + this.accessTtlSeconds;
    const token = await new SignJWT({ sid: caller.sessionId, did: caller.deviceId })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: this.publicJwk.kid, typ: 'at+jwt' })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(caller.userId)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }
}

/** An opaque refresh token and the hash under which it is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
