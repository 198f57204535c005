/**
 * libsignal's public key formats, checked by length and type byte. These are the shapes a
 * server can check without any cryptography; signature checks live in xeddsa.ts.
 */

/** A serialized libsignal EC public key: type byte 0x05, then the 32-byte Curve25519 u-coordinate. */
export const EC_PUBLIC_KEY_LENGTH = 33;
/** A serialized libsignal Kyber1024 public key: type byte 0x08, then the 1568-byte key. */
export const KYBER1024_PUBLIC_KEY_LENGTH = 1569;
/** An XEdDSA signature: R (32 bytes) then s (32 bytes), with the Edwards sign bit in the top bit of byte 63. */
export const SIGNATURE_LENGTH = 64;
export const EC_KEY_TYPE = 0x05;
export const KYBER1024_KEY_TYPE = 0x08;

/** Key material that is not in libsignal's format. The message names the offending field. */
export class KeyFormatError extends Error {
  override readonly name = 'KeyFormatError';
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

function checkTypedKey(key: Uint8Array, what: string, length: number, type: number, description: string): void {
  if (key.length !== length) {
    throw new KeyFormatError(`${what} must be ${length} bytes (${hex(type)} and ${description}), got ${key.length}`);
  }
  if (key[0] !== type) {
    throw new KeyFormatError(`${what} must start with type byte ${hex(type)}`);
  }
}

/** Throws KeyFormatError unless `key` is a serialized libsignal EC (Curve25519) public key. */
export function checkEcPublicKey(key: Uint8Array, what: string): void {
  checkTypedKey(key, what, EC_PUBLIC_KEY_LENGTH, EC_KEY_TYPE, 'a Curve25519 key');
}

/** Throws KeyFormatError unless `key` is a serialized libsignal Kyber1024 public key. */
export function checkKyberPublicKey(key: Uint8Array, what: string): void {
  checkTypedKey(key, what, KYBER1024_PUBLIC_KEY_LENGTH, KYBER1024_KEY_TYPE, 'a Kyber1024 key');
}

/** Throws KeyFormatError unless `sig` has the length of an XEdDSA signature. */
export function checkSignature(sig: Uint8Array, what: string): void {
  if (sig.length !== SIGNATURE_LENGTH) {
    throw new KeyFormatError(`${what} must be ${SIGNATURE_LENGTH} bytes, got ${sig.length}`);
  }
}
