import { newSigningKey } from '@parley/platform';
import { TokenIssuer } from './token-issuer.js';

const caller = { userId: 'u1', sessionId: 's1', deviceId: 1 };

describe('TokenIssuer key rotation', () => {
  it('publishes the previous keys’ public parts beside the current key, and signs with the current one', async () => {
    const old = JSON.parse(newSigningKey());
    const current = JSON.parse(newSigningKey());
    const issuer = await TokenIssuer.fromJwk(JSON.stringify(current), 900, JSON.stringify([old]));
    expect(issuer.jwks.map((k) => k.kid)).toEqual([current.kid, old.kid]);
    expect(JSON.stringify(issuer.jwks)).not.toMatch(/"d"/);
    const { token } = await issuer.accessToken(caller);
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe(current.kid);
  });

  it('verifies tokens of a listed previous key, and not of one dropped from the list', async () => {
    const oldKey = newSigningKey();
    const { token } = await (await TokenIssuer.fromJwk(oldKey, 900)).accessToken(caller);
    const current = newSigningKey();
    const rotated = await TokenIssuer.fromJwk(current, 900, JSON.stringify([JSON.parse(oldKey)]));
    await expect(rotated.verifier().verify(token)).resolves.toEqual({ ...caller, expiresAt: expect.any(Date) });
    const dropped = await TokenIssuer.fromJwk(current, 900);
    await expect(dropped.verifier().verify(token)).rejects.toThrow(/invalid access token/);
  });

  it.each([
    ['not json', /AUTH_PREVIOUS_SIGNING_KEYS is not valid JSON/],
    ['{}', /must be a JSON array/],
    ['[{"kty":"RSA","kid":"a"}]', /AUTH_PREVIOUS_SIGNING_KEYS\[0\] must be an Ed25519 JWK/],
  ])('refuses AUTH_PREVIOUS_SIGNING_KEYS %j', async (previous, message) => {
    await expect(TokenIssuer.fromJwk(newSigningKey(), 900, previous)).rejects.toThrow(message);
  });

  it('refuses a previous key with the current key’s kid', async () => {
    const current = newSigningKey();
    await expect(TokenIssuer.fromJwk(current, 900, JSON.stringify([JSON.parse(current)]))).rejects.toThrow(/its own kid/);
  });
});
