import { createHash } from 'node:crypto';
import { proofOfWorkBits, solveProofOfWork } from './proof-of-work.js';

describe('proof of work', () => {
  it('counts the leading zero bits of SHA-256(challenge ‖ solution)', () => {
    const solution = new Uint8Array([1, 2, 3]);
    const hash = createHash('sha256').update('abc').update(solution).digest();
    const expected = [...hash].map((b) => b.toString(2).padStart(8, '0')).join('').indexOf('1');
    expect(proofOfWorkBits('abc', solution)).toBe(expected);
  });

  it('solves a challenge to the difficulty asked, and the solution checks out', () => {
    for (const bits of [0, 4, 12]) {
      const solution = solveProofOfWork(`challenge-${bits}`, bits);
      expect(proofOfWorkBits(`challenge-${bits}`, solution)).toBeGreaterThanOrEqual(bits);
    }
  });

  it('binds the solution to its challenge', () => {
    const solution = solveProofOfWork('one', 12);
    // Another challenge with the same solution meets 12 bits only by a 1-in-4096 chance; these two don't.
    expect(proofOfWorkBits('two', solution)).toBeLessThan(12);
  });
});
