// Access tokens signed with the stack's own auth key, for benches that need more devices than
// signing them in through auth would make in a few minutes on this machine.
import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@parley/platform';
import { SignJWT, importJWK } from 'jose';

/**
 * Returns `mint(userId, deviceId)`: a token with the claims auth puts in one (a fresh session id),
 * signed with the key the stack's auth process signs with, valid for `ttlSeconds`. Auth has no
 * such session: only services that verify the token alone (the edge, messaging) accept it.
 */
export async function tokenMinter(stack, ttlSeconds = 900) {
  const jwk = JSON.parse(stack.services.auth.env.AUTH_SIGNING_KEY);
  const key = await importJWK(jwk, ACCESS_TOKEN_ALG);
  return async (userId, deviceId) => {
    const issuedAt = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: randomUUID(), did: deviceId })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: jwk.kid, typ: 'at+jwt' })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(key);
  };
}
