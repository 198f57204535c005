import { consistencyProof, leafHash, rootHash, verifyConsistency } from './merkle-log';
import { cryptoReady } from './sodium';
import {
  isFork,
  logPublicKeyFromSecret,
  newLogKeyPair,
  signTreeHead,
  type TreeHead,
  treeHeadBytes,
  verifyTreeHead,
} from './tree-head';

const leaves = (n: number, tag = 'entry'): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${tag} ${i}`)));
const tamper = (b: Uint8Array): Uint8Array => {
  const out = Uint8Array.from(b);
  out[31]! ^= 0x80;
  return out;
};

describe('treeHeadBytes', () => {
  it('is the context string, u64be size, u64be timestamp and root', () => {
    const rootHashBytes = new Uint8Array(32).map((_, i) => i);
    const bytes = treeHeadBytes({ treeSize: 0x0102030405, timestampMs: 1_764_000_000_000, rootHash: rootHashBytes });
    const hex = Buffer.from(bytes).toString('hex');
    expect(hex).toBe(
      Buffer.from('parley-identity-log-v1', 'ascii').toString('hex') +
        '0000000102030405' +
        (1_764_000_000_000).toString(16).padStart(16, '0') +
        Buffer.from(rootHashBytes).toString('hex'),
    );
    expect(bytes.length).toBe(22 + 8 + 8 + 32);
  });

  it('rejects sizes and timestamps that are not non-negative safe integers, and roots not 32 bytes', () => {
    const root = new Uint8Array(32);
    expect(() => treeHeadBytes({ treeSize: -1, timestampMs: 0, rootHash: root })).toThrow(RangeError);
    expect(() => treeHeadBytes({ treeSize: 1.5, timestampMs: 0, rootHash: root })).toThrow(RangeError);
    expect(() => treeHeadBytes({ treeSize: 1, timestampMs: 2 ** 53, rootHash: root })).toThrow(RangeError);
    expect(() => treeHeadBytes({ treeSize: 1, timestampMs: 0, rootHash: new Uint8Array(31) })).toThrow(RangeError);
    expect(treeHeadBytes({ treeSize: Number.MAX_SAFE_INTEGER, timestampMs: 0, rootHash: root }).subarray(22, 30)).toEqual(
      Uint8Array.of(0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    );
  });
});

describe('before cryptoReady', () => {
  it('signing functions throw an error that says to await cryptoReady', async () => {
    await jest.isolateModulesAsync(async () => {
      const fresh = await import('./tree-head');
      expect(() => fresh.newLogKeyPair()).toThrow(/await cryptoReady\(\) before calling newLogKeyPair/);
    });
  });
});

describe('signed tree heads', () => {
  beforeAll(cryptoReady);

  const head: TreeHead = { treeSize: 7, rootHash: rootHash(leaves(7)), timestampMs: 1_764_165_000_123 };

  it('verify under the log key', () => {
    const { publicKey, secretKey } = newLogKeyPair();
    expect(publicKey.length).toBe(32);
    expect(secretKey.length).toBe(64);
    const signature = signTreeHead(head, secretKey);
    expect(signature.length).toBe(64);
    expect(verifyTreeHead(head, signature, publicKey)).toBe(true);
  });

  it('fail when any field, the signature, or the key changes', () => {
    const { publicKey, secretKey } = newLogKeyPair();
    const signature = signTreeHead(head, secretKey);
    expect(verifyTreeHead({ ...head, treeSize: 8 }, signature, publicKey)).toBe(false);
    expect(verifyTreeHead({ ...head, timestampMs: head.timestampMs + 1 }, signature, publicKey)).toBe(false);
    expect(verifyTreeHead({ ...head, rootHash: tamper(head.rootHash) }, signature, publicKey)).toBe(false);
    expect(verifyTreeHead(head, tamper(signature), publicKey)).toBe(false);
    expect(verifyTreeHead(head, signature, newLogKeyPair().publicKey)).toBe(false);
  });

  it('return false, without throwing, for malformed heads, signatures and keys', () => {
    const { publicKey, secretKey } = newLogKeyPair();
    const signature = signTreeHead(head, secretKey);
    expect(verifyTreeHead({ ...head, treeSize: -1 }, signature, publicKey)).toBe(false);
    expect(verifyTreeHead({ ...head, rootHash: new Uint8Array(0) }, signature, publicKey)).toBe(false);
    expect(verifyTreeHead(head, signature.subarray(1), publicKey)).toBe(false);
    expect(verifyTreeHead(head, signature, publicKey.subarray(1))).toBe(false);
    expect(verifyTreeHead(head, signature, new Uint8Array(32))).toBe(false);
  });

  it('derives the public key from the secret key, and refuses an inconsistent one', () => {
    const { publicKey, secretKey } = newLogKeyPair();
    expect(logPublicKeyFromSecret(secretKey)).toEqual(publicKey);
    const mismatched = Uint8Array.from(secretKey);
    mismatched.set(newLogKeyPair().publicKey, 32);
    expect(() => logPublicKeyFromSecret(mismatched)).toThrow(/inconsistent/);
    expect(() => logPublicKeyFromSecret(secretKey.subarray(0, 32))).toThrow(RangeError);
    expect(() => signTreeHead(head, secretKey.subarray(0, 32))).toThrow(RangeError);
  });
});

describe('a forked log', () => {
  beforeAll(cryptoReady);

  const honest = leaves(10);
  const forked = honest.map((h, i) => (i === 3 ? leafHash(new TextEncoder().encode('substituted key')) : h));
  const oldHead: TreeHead = { treeSize: 6, rootHash: rootHash(honest.slice(0, 6)), timestampMs: 1000 };
  const honestHead: TreeHead = { treeSize: 10, rootHash: rootHash(honest), timestampMs: 2000 };
  const forkedHead: TreeHead = { treeSize: 10, rootHash: rootHash(forked), timestampMs: 2000 };

  it('shows two validly signed heads of one size, which isFork detects', () => {
    const { publicKey, secretKey } = newLogKeyPair();
    expect(verifyTreeHead(honestHead, signTreeHead(honestHead, secretKey), publicKey)).toBe(true);
    expect(verifyTreeHead(forkedHead, signTreeHead(forkedHead, secretKey), publicKey)).toBe(true);
    expect(isFork(honestHead, forkedHead)).toBe(true);
    expect(isFork(forkedHead, honestHead)).toBe(true);
  });

  it('isFork is false for the same head, heads of different sizes, or a re-signed head with a new timestamp', () => {
    expect(isFork(honestHead, { ...honestHead, rootHash: Uint8Array.from(honestHead.rootHash) })).toBe(false);
    expect(isFork(oldHead, honestHead)).toBe(false);
    expect(isFork(honestHead, { ...honestHead, timestampMs: 9999 })).toBe(false);
  });

  it('fails consistency from an old head to the forked head, but not to the honest one', () => {
    const check = (to: TreeHead, leavesOfTo: Uint8Array[]) =>
      verifyConsistency({
        fromSize: oldHead.treeSize,
        toSize: to.treeSize,
        fromRoot: oldHead.rootHash,
        toRoot: to.rootHash,
        proof: consistencyProof(leavesOfTo, oldHead.treeSize),
      });
    expect(check(honestHead, honest)).toBe(true);
    expect(check(forkedHead, forked)).toBe(false);
  });
});
