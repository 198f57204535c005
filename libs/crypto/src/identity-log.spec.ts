import { PrivateKey } from '@signalapp/libsignal-client';
import { identityLogEntry, verifyIdentityKeyInclusion } from './identity-log';
import { inclusionProof, leafHash, rootHash } from './merkle-log';
import { cryptoReady } from './sodium';
import { newLogKeyPair, signTreeHead, type TreeHead } from './tree-head';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('identityLogEntry', () => {
  it('is version 1, u16be-prefixed UTF-8 user id, u32be device id, u16be-prefixed key', () => {
    const key = Uint8Array.of(0x05, 0xaa, 0xbb);
    expect(hex(identityLogEntry('bé', 0x01020304, key))).toBe(
      '01' + '0003' + '62c3a9' + '01020304' + '0003' + '05aabb',
    );
    expect(hex(identityLogEntry('', 0, new Uint8Array(0)))).toBe('01' + '0000' + '00000000' + '0000');
    expect(hex(identityLogEntry('u', 0xffffffff, Uint8Array.of(1)))).toBe('01' + '0001' + '75' + 'ffffffff' + '0001' + '01');
  });

  it('is unambiguous: moving bytes between fields changes the entry', () => {
    expect(identityLogEntry('ab', 1, Uint8Array.of(5))).not.toEqual(identityLogEntry('a', 1, Uint8Array.of(0x62, 5)));
    expect(identityLogEntry('a', 1, Uint8Array.of(5))).not.toEqual(identityLogEntry('a', 2, Uint8Array.of(5)));
  });

  it('refuses fields that do not fit their length prefixes', () => {
    expect(() => identityLogEntry('x'.repeat(0x10000), 1, new Uint8Array(33))).toThrow(RangeError);
    expect(identityLogEntry('x'.repeat(0xffff), 1, new Uint8Array(33)).length).toBe(1 + 2 + 0xffff + 4 + 2 + 33);
    expect(() => identityLogEntry('u', -1, new Uint8Array(33))).toThrow(RangeError);
    expect(() => identityLogEntry('u', 2 ** 32, new Uint8Array(33))).toThrow(RangeError);
    expect(() => identityLogEntry('u', 1.5, new Uint8Array(33))).toThrow(RangeError);
    expect(() => identityLogEntry('u', 1, new Uint8Array(0x10000))).toThrow(RangeError);
  });
});

describe('verifyIdentityKeyInclusion', () => {
  beforeAll(cryptoReady);

  // A log of 13 (user, device, identity key) entries with real libsignal identity keys.
  const devices = Array.from({ length: 13 }, (_, i) => ({
    userId: `user-${i % 5}`,
    deviceId: 1 + Math.floor(i / 5),
    identityKey: PrivateKey.generate().getPublicKey().serialize(),
  }));
  const leaves = devices.map((d) => leafHash(identityLogEntry(d.userId, d.deviceId, d.identityKey)));

  function bundle(index: number) {
    const { publicKey, secretKey } = newLogKeyPair();
    const head: TreeHead = { treeSize: leaves.length, rootHash: rootHash(leaves), timestampMs: 1_764_165_000_000 };
    return {
      ...devices[index]!,
      leafIndex: index,
      auditPath: inclusionProof(leaves, index),
      head,
      signature: signTreeHead(head, secretKey),
      logPublicKey: publicKey,
    };
  }

  it('accepts every device of a validly signed log', () => {
    for (let i = 0; i < devices.length; i++) expect(verifyIdentityKeyInclusion(bundle(i))).toBe(true);
  });

  it('rejects a substituted identity key, user or device', () => {
    const ok = bundle(4);
    expect(verifyIdentityKeyInclusion({ ...ok, identityKey: devices[5]!.identityKey })).toBe(false);
    expect(verifyIdentityKeyInclusion({ ...ok, userId: 'user-0' })).toBe(false);
    expect(verifyIdentityKeyInclusion({ ...ok, deviceId: ok.deviceId + 1 })).toBe(false);
  });

  it('rejects a head signed by another key, or a head changed after signing', () => {
    const ok = bundle(7);
    expect(verifyIdentityKeyInclusion({ ...ok, logPublicKey: newLogKeyPair().publicKey })).toBe(false);
    expect(verifyIdentityKeyInclusion({ ...ok, head: { ...ok.head, timestampMs: ok.head.timestampMs + 1 } })).toBe(false);
  });

  it('rejects a validly signed head whose tree does not contain the entry', () => {
    const ok = bundle(2);
    const { publicKey, secretKey } = newLogKeyPair();
    const otherHead: TreeHead = { ...ok.head, rootHash: rootHash(leaves.slice().reverse()) };
    const signature = signTreeHead(otherHead, secretKey);
    expect(verifyIdentityKeyInclusion({ ...ok, head: otherHead, signature, logPublicKey: publicKey })).toBe(false);
  });

  it('rejects a wrong leaf index or a tampered audit path', () => {
    const ok = bundle(9);
    expect(verifyIdentityKeyInclusion({ ...ok, leafIndex: 8 })).toBe(false);
    const bad = ok.auditPath.map((e, j) => (j === 1 ? Uint8Array.from(e).fill(0) : e));
    expect(verifyIdentityKeyInclusion({ ...ok, auditPath: bad })).toBe(false);
  });

  it('returns false, without throwing, for entries that cannot be encoded', () => {
    const ok = bundle(0);
    expect(verifyIdentityKeyInclusion({ ...ok, deviceId: -1 })).toBe(false);
    expect(verifyIdentityKeyInclusion({ ...ok, userId: 'x'.repeat(70_000) })).toBe(false);
  });
});
