import { randomBytes } from 'node:crypto';
import { IdentityKeyPair, KEMKeyPair, PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import sodium from 'libsodium-wrappers';
import { cryptoReady, montgomeryToEdwardsY, verifyXEdDSA } from './xeddsa';

const P = 2n ** 255n - 19n;

function random(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(randomBytes(n));
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

function ecKeyWithU(u: bigint): Uint8Array {
  const key = new Uint8Array(33);
  key[0] = 0x05;
  for (let i = 0; i < 32; i++) key[1 + i] = Number((u >> BigInt(8 * i)) & 0xffn);
  return key;
}

function signed(): { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array } {
  const key = PrivateKey.generate();
  const message = random(1 + (randomBytes(1)[0]! % 200));
  return { publicKey: key.getPublicKey().serialize(), message, signature: key.sign(message) };
}

describe('verifyXEdDSA before cryptoReady', () => {
  it('throws an error that says to await cryptoReady', async () => {
    await jest.isolateModulesAsync(async () => {
      const fresh = await import('./xeddsa');
      const { publicKey, message, signature } = signed();
      expect(() => fresh.verifyXEdDSA(publicKey, message, signature)).toThrow(/await cryptoReady\(\)/);
    });
  });
});

describe('verifyXEdDSA with libsignal signatures', () => {
  beforeAll(async () => {
    await cryptoReady();
    await cryptoReady(); // idempotent
  });

  it('verifies 200 random keys, covering both Edwards sign bits', () => {
    const signBits = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const { publicKey, message, signature } = signed();
      signBits.add(signature[63]! >> 7);
      expect(verifyXEdDSA(publicKey, message, signature)).toBe(true);
    }
    expect([...signBits].sort()).toEqual([0, 1]);
  });

  it('verifies a signed prekey signature by the identity key', () => {
    const identity = IdentityKeyPair.generate();
    const signedPreKey = PrivateKey.generate().getPublicKey().serialize();
    const signature = identity.privateKey.sign(signedPreKey);
    expect(verifyXEdDSA(identity.publicKey.serialize(), signedPreKey, signature)).toBe(true);
    const otherIdentity = IdentityKeyPair.generate().publicKey.serialize();
    expect(verifyXEdDSA(otherIdentity, signedPreKey, signature)).toBe(false);
  });

  it('verifies a Kyber prekey signature by the identity key', () => {
    const identity = IdentityKeyPair.generate();
    const kyberPublic = KEMKeyPair.generate().getPublicKey().serialize();
    expect(kyberPublic.length).toBe(1569);
    const signature = identity.privateKey.sign(kyberPublic);
    expect(verifyXEdDSA(identity.publicKey.serialize(), kyberPublic, signature)).toBe(true);
    const otherKyber = KEMKeyPair.generate().getPublicKey().serialize();
    expect(verifyXEdDSA(identity.publicKey.serialize(), otherKyber, signature)).toBe(false);
  });

  it('rejects every single-bit change of the message', () => {
    const { publicKey, message, signature } = signed();
    for (let bit = 0; bit < message.length * 8; bit += 3) {
      expect(verifyXEdDSA(publicKey, flipBit(message, bit), signature)).toBe(false);
    }
  });

  it('rejects every single-bit change of the signature', () => {
    const { publicKey, message, signature } = signed();
    for (let bit = 0; bit < 512; bit++) {
      expect(verifyXEdDSA(publicKey, message, flipBit(signature, bit))).toBe(false);
    }
  });

  it('rejects a signature checked against another key', () => {
    const a = signed();
    const b = signed();
    expect(verifyXEdDSA(b.publicKey, a.message, a.signature)).toBe(false);
  });

  it('needs the sign bit exactly as libsignal set it, whether set or clear', () => {
    const seen = new Set<number>();
    while (seen.size < 2) {
      const { publicKey, message, signature } = signed();
      const bit = signature[63]! >> 7;
      seen.add(bit);
      const wrong = Uint8Array.from(signature);
      wrong[63]! ^= 0x80; // clears a set bit, or sets a clear one
      expect(verifyXEdDSA(publicKey, message, wrong)).toBe(false);
    }
  });

  it("agrees with libsignal's own verifier on random corruptions of real signatures", () => {
    let accepted = 0;
    for (let i = 0; i < 300; i++) {
      const { publicKey, message, signature } = signed();
      const corrupted = Uint8Array.from(signature);
      if (i % 3 !== 0) corrupted[randomBytes(1)[0]! % 64]! ^= 1 << (randomBytes(1)[0]! % 8);
      const ours = verifyXEdDSA(publicKey, message, corrupted);
      expect(ours).toBe(PublicKey.deserialize(new Uint8Array(publicKey)).verify(new Uint8Array(message), corrupted));
      if (ours) accepted++;
    }
    expect(accepted).toBe(100);
  });

  it('rejects a key whose u has the top bit set (u ≥ p), though u mod 2^255 is valid', () => {
    const { publicKey, message, signature } = signed();
    const highBit = Uint8Array.from(publicKey);
    highBit[32]! |= 0x80;
    expect(verifyXEdDSA(highBit, message, signature)).toBe(false);
  });

  it('rejects non-canonical u = p and u = p + 9, and u = p − 1', () => {
    const { message, signature } = signed();
    expect(verifyXEdDSA(ecKeyWithU(P), message, signature)).toBe(false);
    expect(verifyXEdDSA(ecKeyWithU(P + 9n), message, signature)).toBe(false);
    expect(verifyXEdDSA(ecKeyWithU(P - 1n), message, signature)).toBe(false);
  });

  it('returns false, without throwing, for malformed keys and signatures', () => {
    const { publicKey, message, signature } = signed();
    expect(verifyXEdDSA(publicKey.subarray(1), message, signature)).toBe(false);
    const wrongType = Uint8Array.from(publicKey);
    wrongType[0] = 0x08;
    expect(verifyXEdDSA(wrongType, message, signature)).toBe(false);
    expect(verifyXEdDSA(publicKey, message, signature.subarray(0, 63))).toBe(false);
    expect(verifyXEdDSA(publicKey, message, new Uint8Array(64))).toBe(false);
    expect(verifyXEdDSA(ecKeyWithU(0n), message, signature)).toBe(false); // small order
    expect(verifyXEdDSA(new Uint8Array(33).fill(0x05), message, new Uint8Array(64).fill(0xff))).toBe(false);
  });
});

describe('montgomeryToEdwardsY', () => {
  beforeAll(cryptoReady);

  it('maps the Curve25519 base point u = 9 to the Ed25519 base point y = 4/5', () => {
    const u = new Uint8Array(32);
    u[0] = 9;
    const y = montgomeryToEdwardsY(u);
    expect(Buffer.from(y!).toString('hex')).toBe('58' + '66'.repeat(31));
  });

  it("inverts libsodium's Ed25519 → Curve25519 conversion, up to the sign bit", () => {
    for (let i = 0; i < 50; i++) {
      const { publicKey } = sodium.crypto_sign_keypair();
      const u = sodium.crypto_sign_ed25519_pk_to_curve25519(publicKey);
      const y = montgomeryToEdwardsY(u)!;
      const expected = Uint8Array.from(publicKey);
      expected[31]! &= 0x7f;
      expect(y).toEqual(expected);
    }
  });

  it('returns null for u ≥ p, u = p − 1 and wrong lengths', () => {
    expect(montgomeryToEdwardsY(ecKeyWithU(P).subarray(1))).toBeNull();
    expect(montgomeryToEdwardsY(ecKeyWithU(P - 1n).subarray(1))).toBeNull();
    expect(montgomeryToEdwardsY(ecKeyWithU(P - 2n).subarray(1))).not.toBeNull();
    expect(montgomeryToEdwardsY(new Uint8Array(31))).toBeNull();
  });
});
