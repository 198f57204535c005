import { generateKeyPairSync } from 'node:crypto';

/**
 * A fresh KEYS_LOG_SIGNING_KEY: base64 of a 64-byte Ed25519 secret key in libsodium's layout
 * (seed || public key), the format keys' `generate-log-key` prints. Made with node:crypto so the
 * launcher needs no crypto library.
 */
export function newLogSigningKey(): string {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url')]).toString('base64');
}
