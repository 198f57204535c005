import type { EntityManager } from '@mikro-orm/postgresql';
import { MerkleTree, consistencyProof, identityLogEntry, leafHash, logPublicKeyFromSecret, signTreeHead, type TreeHead } from '@parley/crypto';
import { IdentityLogEntrySchema } from './identity-log.entity.js';

/** Any fixed number: the advisory lock that serializes appends, so leaf indexes are gapless. */
const APPEND_LOCK = 0x6b657973;

export interface SignedHead extends TreeHead {
  signature: Uint8Array;
}

/** A snapshot of the log: its leaf hashes, their tree, and a head over them signed by the log key. */
export interface LogSnapshot {
  leafHashes: readonly Uint8Array[];
  tree: MerkleTree;
  head: SignedHead;
}

/**
 * The identity key log (RFC 6962 Merkle tree): one leaf per (user, device, identity key) published.
 * Only leaf hashes are stored; heads are computed from them and signed with the log key.
 */
export class IdentityLog {
  /** The committed leaf hashes read so far, in index order. */
  private readonly leaves: Uint8Array[] = [];
  /** The tree and signed head for the current size: built and signed once per size, not per request. */
  private latest?: LogSnapshot;

  private constructor(
    private readonly secretKey: Uint8Array,
    readonly publicKey: Uint8Array,
  ) {}

  /** From KEYS_LOG_SIGNING_KEY: base64 of the 64-byte libsodium Ed25519 secret key. */
  static fromConfig(base64: string): IdentityLog {
    const secret = Buffer.from(base64.trim(), 'base64');
    let publicKey: Uint8Array | undefined;
    try {
      if (secret.length === 64) publicKey = logPublicKeyFromSecret(secret);
    } catch {
      publicKey = undefined;
    }
    if (!publicKey) {
      throw new Error('KEYS_LOG_SIGNING_KEY must be base64 of a 64-byte Ed25519 secret key; make one with `npm run -w @parley/keys generate-log-key`');
    }
    return new IdentityLog(new Uint8Array(secret), publicKey);
  }

  /** Appends a leaf inside the caller's transaction and returns its index. */
  async append(em: EntityManager, userId: string, deviceId: number, identityKey: Uint8Array): Promise<number> {
    await em.execute('select pg_advisory_xact_lock(?)', [APPEND_LOCK]);
    const [{ next }] = (await em.execute('select coalesce(max(leaf_index) + 1, 0)::bigint as next from identity_log_entry')) as [{ next: string }];
    const leafIndex = Number(next);
    await em.insert(IdentityLogEntrySchema, { leafIndex, leafHash: Buffer.from(leafHash(identityLogEntry(userId, deviceId, identityKey))) });
    return leafIndex;
  }

  /** How many leaves this process has read: whoever reads newer ones starts at this index. */
  get knownSize(): number {
    return this.leaves.length;
  }

  /**
   * Every committed leaf hash, and a signed head over them. Leaves never change and commit
   * in index order (appends hold the lock until commit), so this process keeps the ones it has
   * read and fetches only newer ones.
   */
  async snapshot(em: EntityManager): Promise<LogSnapshot> {
    const from = this.leaves.length;
    const rows: { leaf_hash: Buffer }[] = await em.execute('select leaf_hash from identity_log_entry where leaf_index >= ? order by leaf_index', [from]);
    return this.snapshotWith(from, rows.map((r) => r.leaf_hash));
  }

  /**
   * The snapshot once `hashes`, the committed leaves from index `from` on (read by the caller, from
   * `knownSize` at the time), are added to those this process knows.
   */
  snapshotWith(from: number, hashes: readonly Uint8Array[]): LogSnapshot {
    // Reads that overlap (concurrent ones) add each leaf once; `from` was never past what is known.
    if (from > this.leaves.length) throw new Error(`identity log has no leaf ${this.leaves.length} but has ${from}`);
    for (let index = this.leaves.length; index < from + hashes.length; index++) this.leaves.push(new Uint8Array(hashes[index - from]!));
    if (this.latest?.head.treeSize !== this.leaves.length) {
      const leafHashes = this.leaves.slice();
      const tree = new MerkleTree(leafHashes);
      const head: TreeHead = { treeSize: tree.size, rootHash: tree.root, timestampMs: Date.now() };
      this.latest = { leafHashes, tree, head: { ...head, signature: signTreeHead(head, this.secretKey) } };
    }
    return this.latest;
  }

  static inclusionProof(snapshot: LogSnapshot, leafIndex: number): Uint8Array[] {
    return snapshot.tree.inclusionProof(leafIndex);
  }

  /** Proof that the first `toSize` leaves extend the first `fromSize`; sizes checked by the caller. */
  static consistencyProof(snapshot: LogSnapshot, fromSize: number, toSize: number): Uint8Array[] {
    return consistencyProof(snapshot.leafHashes.slice(0, toSize), fromSize);
  }
}
