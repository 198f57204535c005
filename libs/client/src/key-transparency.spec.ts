import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';
import { consistencyProof, cryptoReady, identityLogEntry, leafHash, MerkleTree, newLogKeyPair, signTreeHead } from '@parley/crypto';
import { PreKeyBundleSchema, SignedTreeHeadSchema, type KeyService } from '@parley/proto';
import { Emitter } from './emitter';
import { KeyTransparencyError } from './errors';
import type { ClientEvents } from './events';
import { KeyTransparency } from './key-transparency';
import { MemoryStore } from './store';

const identityKey = (n: number) => Uint8Array.from({ length: 33 }, (_, i) => (i === 0 ? 5 : n));

/** A log the test controls: entries for (user-i, device 1, key i), signed heads on demand. */
class FakeLog {
  readonly keyPair = newLogKeyPair();
  leaves: Uint8Array[] = [];
  append(n: number): void {
    this.leaves.push(leafHash(identityLogEntry(`user-${n}`, 1, identityKey(n))));
  }
  signedHead(size = this.leaves.length) {
    const head = { treeSize: size, rootHash: new MerkleTree(this.leaves.slice(0, size)).root, timestampMs: 1_700_000_000_000 + size };
    return create(SignedTreeHeadSchema, { treeSize: BigInt(size), rootHash: head.rootHash, timestamp: timestampFromMs(head.timestampMs), signature: signTreeHead(head, this.keyPair.secretKey) });
  }
  bundle(n: number) {
    return create(PreKeyBundleSchema, {
      deviceId: 1,
      identityKey: identityKey(n),
      identityKeyProof: { leafIndex: BigInt(n), auditPath: new MerkleTree(this.leaves).inclusionProof(n), treeHead: this.signedHead() },
    });
  }
  client(): Client<typeof KeyService> {
    return {
      getTreeHead: async () => ({ treeHead: this.signedHead(), logPublicKey: this.keyPair.publicKey }),
      getConsistencyProof: async ({ fromSize, toSize }: { fromSize: bigint; toSize: bigint }) => ({
        proof: consistencyProof(this.leaves.slice(0, Number(toSize)), Number(fromSize)),
      }),
    } as unknown as Client<typeof KeyService>;
  }
}

function setUp(log: FakeLog) {
  const events = new Emitter<ClientEvents>();
  const forks: string[] = [];
  events.on('logForked', (detail) => forks.push(detail));
  const transparency = new KeyTransparency(log.client(), new MemoryStore(), events);
  return { transparency, forks };
}

describe('KeyTransparency', () => {
  beforeAll(cryptoReady);

  it("accepts a bundle whose key is proven in the log, and follows the log as it grows", async () => {
    const log = new FakeLog();
    for (let n = 0; n < 5; n++) log.append(n);
    const { transparency } = setUp(log);
    await transparency.verifyBundle('user-3', log.bundle(3));
    expect(transparency.lastHead()?.treeSize).toBe(5);
    for (let n = 5; n < 9; n++) log.append(n);
    await transparency.verifyBundle('user-7', log.bundle(7));
    expect(transparency.lastHead()?.treeSize).toBe(9);
  });

  it('refuses a key that is not the one in the log, and a head the log key did not sign', async () => {
    const log = new FakeLog();
    for (let n = 0; n < 4; n++) log.append(n);
    const { transparency } = setUp(log);
    const swapped = log.bundle(2);
    swapped.identityKey = identityKey(99);
    await expect(transparency.verifyBundle('user-2', swapped)).rejects.toBeInstanceOf(KeyTransparencyError);
    const forged = log.bundle(2);
    forged.identityKeyProof!.treeHead!.signature = new Uint8Array(64);
    await expect(transparency.verifyBundle('user-2', forged)).rejects.toThrow('not proven');
  });

  it('reports a fork when a newer head does not extend the last one seen', async () => {
    const log = new FakeLog();
    for (let n = 0; n < 4; n++) log.append(n);
    const { transparency, forks } = setUp(log);
    await transparency.currentHead();
    // The server rewrites history: entry 1 replaced, then the log grows.
    log.leaves[1] = leafHash(identityLogEntry('user-1', 1, identityKey(42)));
    log.append(4);
    await expect(transparency.verifyBundle('user-4', log.bundle(4))).rejects.toThrow('forked');
    expect(forks).toEqual(['the log of size 5 does not extend the log of size 4']);
    expect(transparency.lastHead()?.treeSize).toBe(4);
  });

  it('reports a fork when two heads of one size differ', async () => {
    const log = new FakeLog();
    for (let n = 0; n < 4; n++) log.append(n);
    const { transparency, forks } = setUp(log);
    await transparency.currentHead();
    log.leaves[3] = leafHash(identityLogEntry('user-3', 1, identityKey(77)));
    await expect(transparency.currentHead()).rejects.toBeInstanceOf(KeyTransparencyError);
    expect(forks).toEqual(['two tree heads of size 4 have different roots']);
  });
});
