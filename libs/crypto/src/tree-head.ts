/**
 * Signed tree heads of the identity-key log: Ed25519 (libsodium) over a fixed byte layout.
 *
 *   "parley-identity-log-v1" (22 ASCII bytes) || u64be(treeSize) || u64be(timestampMs) || rootHash (32)
 */
import { HASH_LENGTH } from './merkle-log.js';
import { readySodium } from './sodium.js';

export interface TreeHead {
  treeSize: number;
  rootHash: Uint8Array;
  timestampMs: number;
}

export const TREE_HEAD_CONTEXT = 'parley-identity-log-v1';
export const TREE_HEAD_SIGNATURE_LENGTH = 64;
export const LOG_PUBLIC_KEY_LENGTH = 32;
export const LOG_SECRET_KEY_LENGTH = 64;

const CONTEXT_BYTES = new TextEncoder().encode(TREE_HEAD_CONTEXT);

function checkU64(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${value}`);
  }
}

/** The exact bytes a tree head signature covers. Throws RangeError for a malformed head. */
export function treeHeadBytes(head: TreeHead): Uint8Array {
  checkU64(head.treeSize, 'treeSize');
  checkU64(head.timestampMs, 'timestampMs');
  if (head.rootHash.length !== HASH_LENGTH) {
    throw new RangeError(`rootHash must be ${HASH_LENGTH} bytes, got ${head.rootHash.length}`);
  }
  const out = new Uint8Array(CONTEXT_BYTES.length + 8 + 8 + HASH_LENGTH);
  const view = new DataView(out.buffer);
  out.set(CONTEXT_BYTES, 0);
  view.setBigUint64(CONTEXT_BYTES.length, BigInt(head.treeSize));
  view.setBigUint64(CONTEXT_BYTES.length + 8, BigInt(head.timestampMs));
  out.set(head.rootHash, CONTEXT_BYTES.length + 16);
  return out;
}

/** A fresh Ed25519 log key pair (libsodium layout: the secret key is seed || public key). */
export function newLogKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const { publicKey, privateKey } = readySodium('newLogKeyPair').crypto_sign_keypair();
  return { publicKey, secretKey: privateKey };
}

/**
 * The public key of a 64-byte libsodium Ed25519 secret key. The non-sumo libsodium-wrappers
 * build lacks crypto_sign_ed25519_sk_to_pk (it is typed but undefined at run time), so we
 * derive the key from the seed half and also check it against the stored public half, which
 * catches a corrupted or mismatched secret key.
 */
export function logPublicKeyFromSecret(secretKey: Uint8Array): Uint8Array {
  const sodium = readySodium('logPublicKeyFromSecret');
  if (secretKey.length !== LOG_SECRET_KEY_LENGTH) {
    throw new RangeError(`log secret key must be ${LOG_SECRET_KEY_LENGTH} bytes, got ${secretKey.length}`);
  }
  const { publicKey } = sodium.crypto_sign_seed_keypair(secretKey.subarray(0, 32));
  if (!sodium.memcmp(publicKey, secretKey.subarray(32))) {
    throw new RangeError('log secret key is inconsistent: its public half does not match its seed');
  }
  return publicKey;
}

/** The Ed25519 signature of treeHeadBytes(head). */
export function signTreeHead(head: TreeHead, secretKey: Uint8Array): Uint8Array {
  const sodium = readySodium('signTreeHead');
  if (secretKey.length !== LOG_SECRET_KEY_LENGTH) {
    throw new RangeError(`log secret key must be ${LOG_SECRET_KEY_LENGTH} bytes, got ${secretKey.length}`);
  }
  return sodium.crypto_sign_detached(treeHeadBytes(head), secretKey);
}

/** Whether `signature` is the log's signature on `head`. False, never a throw, for malformed input. */
export function verifyTreeHead(head: TreeHead, signature: Uint8Array, publicKey: Uint8Array): boolean {
  const sodium = readySodium('verifyTreeHead');
  if (signature.length !== TREE_HEAD_SIGNATURE_LENGTH || publicKey.length !== LOG_PUBLIC_KEY_LENGTH) return false;
  let bytes: Uint8Array;
  try {
    bytes = treeHeadBytes(head);
  } catch {
    return false;
  }
  try {
    return sodium.crypto_sign_verify_detached(signature, bytes, publicKey);
  } catch {
    return false;
  }
}

/**
 * Two heads of the same size with different roots: the log showed two histories. If both are
 * validly signed, the pair is proof that the log forked.
 */
export function isFork(a: TreeHead, b: TreeHead): boolean {
  if (a.treeSize !== b.treeSize) return false;
  if (a.rootHash.length !== b.rootHash.length) return true;
  return a.rootHash.some((byte, i) => byte !== b.rootHash[i]);
}
