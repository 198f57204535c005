import { generateKeyPairSync, randomUUID } from 'node:crypto';

/** A fresh Ed25519 private JWK for AUTH_SIGNING_KEY. */
export function newSigningKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'EdDSA' });
}
