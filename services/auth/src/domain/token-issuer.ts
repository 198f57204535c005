import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import {
  ACCESS_TOKEN_ALG,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  createTokenVerifier,
  type TokenSubject,
  type TokenVerifier,
} from '@parley/platform';

export interface IssuedAccessToken {
  token: string;
  expiresAt: Date;
}

type PublicJwk = JWK & { kid: string };

/**
 * Signs access tokens with the configured Ed25519 key and publishes its public half, beside the
 * public halves of previous keys, so tokens they signed keep verifying until they expire.
 */
export class TokenIssuer {
  private constructor(
    private readonly key: CryptoKey | Uint8Array,
    private readonly publicJwk: PublicJwk,
    private readonly previousJwks: PublicJwk[],
    private readonly accessTtlSeconds: number,
  ) {}

  /** `previousJson` is a JSON array of Ed25519 JWKs, public or private, or '' for none. */
  static async fromJwk(json: string, accessTtlSeconds: number, previousJson = ''): Promise<TokenIssuer> {
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
    const current = publicPart(jwk as PublicJwk);
    const previous = parsePreviousKeys(previousJson);
    const kids = [current.kid, ...previous.map((k) => k.kid)];
    if (new Set(kids).size !== kids.length) throw new Error('AUTH_PREVIOUS_SIGNING_KEYS: every key needs its own kid, different from the current one');
    // Importing checks each public key is usable, so a bad one stops start-up rather than a verify.
    for (const k of previous) await importJWK(k, ACCESS_TOKEN_ALG);
    return new TokenIssuer(key, current, previous, accessTtlSeconds);
  }

  /** The keys that verify access tokens: the current one first. */
  get jwks(): PublicJwk[] {
    return [this.publicJwk, ...this.previousJwks];
  }

  /** Auth checks its own tokens without a network hop. */
  verifier(): TokenVerifier {
    return createTokenVerifier(async () => this.jwks);
  }

  async accessToken(caller: TokenSubject, now = new Date()): Promise<IssuedAccessToken> {
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

function publicPart(jwk: PublicJwk): PublicJwk {
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwk.kid };
}

function parsePreviousKeys(json: string): PublicJwk[] {
  if (!json.trim()) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('AUTH_PREVIOUS_SIGNING_KEYS is not valid JSON');
  }
  if (!Array.isArray(parsed)) throw new Error('AUTH_PREVIOUS_SIGNING_KEYS must be a JSON array of JWKs');
  return parsed.map((k: JWK, i) => {
    if (k?.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string' || !k.x || typeof k.kid !== 'string' || !k.kid) {
      throw new Error(`AUTH_PREVIOUS_SIGNING_KEYS[${i}] must be an Ed25519 JWK with kty OKP, crv Ed25519, x and kid`);
    }
    return publicPart(k as PublicJwk);
  });
}

/** A random 32-byte secret, base64url, and the SHA-256 (hex) under which it is stored. */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOpaqueToken(token) };
}

export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** An opaque refresh token and the hash under which it is stored. */
export const newRefreshToken = newOpaqueToken;
export const hashRefreshToken = hashOpaqueToken;
