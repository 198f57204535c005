import { createHash } from 'node:crypto';

/**
 * The proof of work Register may ask for, as server and clients compute it: the solution to a
 * challenge is any byte string (at most MAX_SOLUTION_BYTES) for which SHA-256(the challenge's
 * UTF-8 bytes ‖ solution) starts with the challenge's number of zero bits.
 */
export const MAX_SOLUTION_BYTES = 64;

/** How many leading zero bits SHA-256(challenge ‖ solution) has. */
export function proofOfWorkBits(challenge: string, solution: Uint8Array): number {
  const hash = createHash('sha256').update(challenge, 'utf8').update(solution).digest();
  let bits = 0;
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** A solution with at least `difficultyBits` leading zero bits: a counter, tried from 0 (about 2^bits hashes). */
export function solveProofOfWork(challenge: string, difficultyBits: number): Uint8Array {
  const solution = Buffer.alloc(8);
  for (let n = 0n; ; n++) {
    solution.writeBigUInt64BE(n);
    if (proofOfWorkBits(challenge, solution) >= difficultyBits) return new Uint8Array(solution);
  }
}
