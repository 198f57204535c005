import { createHash } from 'node:crypto';

/** Digits of a link verification code: a device with a random key matches one in 10^8. */
export const LINK_VERIFICATION_CODE_DIGITS = 8;

const DOMAIN = 'parley-link-v1:';

/**
 * The short code both screens show while a device links: derived from the new device's identity
 * key, so the owner, typing what the new device shows, approves that key and no other. The first
 * 8 bytes of SHA-256("parley-link-v1:" || key), big-endian, mod 10^8, zero-padded.
 */
export function linkVerificationCode(identityKey: Uint8Array): string {
  const digest = createHash('sha256').update(DOMAIN, 'utf8').update(identityKey).digest();
  return (digest.readBigUInt64BE(0) % 10n ** BigInt(LINK_VERIFICATION_CODE_DIGITS)).toString().padStart(LINK_VERIFICATION_CODE_DIGITS, '0');
}
