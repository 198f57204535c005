import { linkVerificationCode } from './link-verification.js';

describe('linkVerificationCode', () => {
  const key = Uint8Array.from([0x05, ...Array.from({ length: 32 }, (_, i) => i)]);

  it('gives the fixed vector every client must reproduce: 8 digits, zero-padded', () => {
    // SHA-256("parley-link-v1:" || key), first 8 bytes big-endian, mod 10^8.
    expect(linkVerificationCode(key)).toBe('12348415');
  });

  it('differs when one bit of the key does', () => {
    const other = Uint8Array.from(key);
    other[32] ^= 1;
    expect(linkVerificationCode(other)).toMatch(/^\d{8}$/);
    expect(linkVerificationCode(other)).not.toBe(linkVerificationCode(key));
  });
});
