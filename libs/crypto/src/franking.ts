/**
 * Message franking, the client's half: a commitment to a message's plaintext under a fresh key
 * that travels inside the ciphertext. HMAC-SHA256 is key-committing (finding two keys that open one
 * commitment to two plaintexts means an HMAC collision), unlike a GCM tag: Messenger's "invisible
 * salamanders" showed that a non-committing scheme lets a sender show the recipient one message and
 * a moderator another. WebCrypto only, so browsers and Node share it.
 */
import type { webcrypto } from 'node:crypto';

export const FRANKING_KEY_BYTES = 32;
export const FRANKING_COMMITMENT_BYTES = 32;

// Types only: at run time this is the platform's WebCrypto, in a browser as in Node.
function subtle(): webcrypto.SubtleCrypto {
  return globalThis.crypto.subtle as webcrypto.SubtleCrypto;
}

async function hmacKey(frankingKey: Uint8Array, usage: 'sign' | 'verify'): Promise<webcrypto.CryptoKey> {
  if (frankingKey.length !== FRANKING_KEY_BYTES) {
    throw new RangeError(`a franking key is ${FRANKING_KEY_BYTES} bytes, got ${frankingKey.length}`);
  }
  return subtle().importKey('raw', frankingKey, { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

/** A fresh random franking key, one per message. */
export function newFrankingKey(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(FRANKING_KEY_BYTES));
}

/** HMAC-SHA256(frankingKey, plaintext): what the sender puts in the clear beside its envelopes. */
export async function frankingCommitment(frankingKey: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().sign('HMAC', await hmacKey(frankingKey, 'sign'), plaintext));
}

/** Whether `commitment` opens to `plaintext` under `frankingKey` (constant-time). */
export async function openFrankingCommitment(frankingKey: Uint8Array, plaintext: Uint8Array, commitment: Uint8Array): Promise<boolean> {
  if (frankingKey.length !== FRANKING_KEY_BYTES || commitment.length !== FRANKING_COMMITMENT_BYTES) return false;
  return subtle().verify('HMAC', await hmacKey(frankingKey, 'verify'), commitment, plaintext);
}
