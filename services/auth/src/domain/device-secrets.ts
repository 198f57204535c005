import { timingSafeEqual } from 'node:crypto';
import { hashOpaqueToken, newOpaqueToken } from './token-issuer.js';

/**
 * A device's own credential: 256 random bits, handed to the device once when it is created and
 * stored only as its SHA-256. A password login on an existing device needs it, so the account's
 * password alone can't take a device over.
 */
export const newDeviceSecret = newOpaqueToken;

/** Whether `presented` is the secret whose hash is `storedHash` (a device made before secrets has none). */
export function deviceSecretMatches(presented: string, storedHash: string | null | undefined): boolean {
  if (!storedHash || !presented) return false;
  const a = Buffer.from(hashOpaqueToken(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
