/**
 * XEdDSA signature verification (https://signal.org/docs/specifications/xeddsa/) on libsodium.
 *
 * libsignal signs with a Curve25519 (Montgomery) key. Its Edwards twin has y = (u − 1)/(u + 1);
 * the sign of x is not in the public key, so libsignal stores it in the otherwise unused top
 * bit of the signature's last byte. We rebuild the Ed25519 public key from u and that bit,
 * clear the bit, and let libsodium's Ed25519 verifier do the rest (it also rejects
 * non-canonical s, small-order keys and R, and points that are not on the curve).
 */
import { EC_KEY_TYPE, EC_PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './signal-keys.js';
import { readySodium } from './sodium.js';

export { cryptoReady } from './sodium.js';

const P = 2n ** 255n - 19n;

function fromLittleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function toLittleEndian32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  base %= P;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % P;
    base = (base * base) % P;
    exponent >>= 1n;
  }
  return result;
}

/**
 * The Edwards y for Montgomery u, as 32 little-endian bytes with the sign bit clear, or null for
 * a u the spec rejects: non-canonical (u ≥ p, which includes any u with the top bit set) or
 * u = p − 1, where u + 1 = 0 has no inverse.
 */
export function montgomeryToEdwardsY(u: Uint8Array): Uint8Array | null {
  if (u.length !== 32) return null;
  const un = fromLittleEndian(u);
  if (un >= P || un === P - 1n) return null;
  const y = ((un - 1n + P) * modPow(un + 1n, P - 2n)) % P;
  return toLittleEndian32(y);
}

/**
 * Verifies a libsignal XEdDSA signature by a 33-byte serialized EC public key (0x05 prefix).
 * Synchronous, but needs `await cryptoReady()` first (it throws otherwise). Returns false,
 * never throws, for any bad signature or malformed key or signature; call checkEcPublicKey
 * and checkSignature first where you want an error that says what is wrong.
 */
export function verifyXEdDSA(identityKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const sodium = readySodium('verifyXEdDSA');
  if (identityKey.length !== EC_PUBLIC_KEY_LENGTH || identityKey[0] !== EC_KEY_TYPE) return false;
  if (signature.length !== SIGNATURE_LENGTH) return false;
  const edPublicKey = montgomeryToEdwardsY(identityKey.subarray(1));
  if (edPublicKey === null) return false;
  const signBit = signature[63]! & 0x80;
  edPublicKey[31]! |= signBit;
  const edSignature = Uint8Array.from(signature);
  edSignature[63]! &= 0x7f;
  try {
    return sodium.crypto_sign_verify_detached(edSignature, message, edPublicKey);
  } catch {
    // libsodium throws rather than returning false for some malformed keys.
    return false;
  }
}
