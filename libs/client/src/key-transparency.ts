import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';
import { cryptoReady, isFork, verifyConsistency, verifyIdentityKeyInclusion, verifyTreeHead, type TreeHead } from '@parley/crypto';
import type { KeyService, PreKeyBundle, SignedTreeHead } from '@parley/proto';
import type { Emitter } from './emitter.js';
import { call, KeyTransparencyError } from './errors.js';
import type { ClientEvents } from './events.js';
import type { ClientStore } from './store.js';

const LOG_KEY = 'kt.logPublicKey';
const LAST_HEAD = 'kt.lastHead';

interface StoredHead {
  treeSize: number;
  rootHash: string;
  timestampMs: number;
  signature: string;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function headOf(signed: SignedTreeHead | undefined): { head: TreeHead; signature: Uint8Array } {
  if (!signed?.timestamp) throw new KeyTransparencyError('the server sent no signed tree head');
  return { head: { treeSize: Number(signed.treeSize), rootHash: signed.rootHash, timestampMs: timestampMs(signed.timestamp) }, signature: signed.signature };
}

/**
 * Key transparency as a client runs it: every bundle's identity key must be proven in the log
 * under a signed tree head, and every head seen must extend the last one (a consistency proof),
 * so a server that shows two histories is caught. The log key is pinned on first use unless the
 * app passes the operator's key.
 */
export class KeyTransparency {
  constructor(
    private readonly keys: Client<typeof KeyService>,
    private readonly store: ClientStore,
    private readonly events: Emitter<ClientEvents>,
    private readonly configuredLogKey?: Uint8Array,
  ) {}

  /** The log's public key: the configured one, else the pinned one, else the server's (then pinned). */
  async logPublicKey(): Promise<Uint8Array> {
    if (this.configuredLogKey) return this.configuredLogKey;
    const pinned = this.store.getValue<string>(LOG_KEY);
    if (pinned) return unb64(pinned);
    const res = await call(() => this.keys.getTreeHead({}));
    this.store.setValue(LOG_KEY, b64(res.logPublicKey));
    return res.logPublicKey;
  }

  /** The last tree head this client verified. */
  lastHead(): TreeHead | undefined {
    const stored = this.store.getValue<StoredHead>(LAST_HEAD);
    return stored && { treeSize: stored.treeSize, rootHash: unb64(stored.rootHash), timestampMs: stored.timestampMs };
  }

  /** Fetches the log's current head, checks its signature and its consistency with the last head seen. */
  async currentHead(): Promise<TreeHead> {
    const res = await call(() => this.keys.getTreeHead({}));
    const { head, signature } = headOf(res.treeHead);
    await this.observe(head, signature);
    return head;
  }

  /** Throws KeyTransparencyError unless the bundle's identity key is proven in a consistent log. */
  async verifyBundle(userId: string, bundle: PreKeyBundle): Promise<void> {
    await cryptoReady();
    const proof = bundle.identityKeyProof;
    if (!proof) throw new KeyTransparencyError(`the bundle of ${userId}/${bundle.deviceId} carries no inclusion proof`);
    const { head, signature } = headOf(proof.treeHead);
    const included = verifyIdentityKeyInclusion({
      userId,
      deviceId: bundle.deviceId,
      identityKey: bundle.identityKey,
      leafIndex: Number(proof.leafIndex),
      auditPath: proof.auditPath,
      head,
      signature,
      logPublicKey: await this.logPublicKey(),
    });
    if (!included) throw new KeyTransparencyError(`the identity key of ${userId}/${bundle.deviceId} is not proven in the key log`);
    await this.observe(head, signature);
  }

  /** Checks a signed head against the last one seen, then keeps the newer of the two. */
  private async observe(head: TreeHead, signature: Uint8Array): Promise<void> {
    await cryptoReady();
    if (!verifyTreeHead(head, signature, await this.logPublicKey())) throw new KeyTransparencyError('a tree head is not signed by the log key');
    const last = this.lastHead();
    if (last && isFork(last, head)) this.fork(`two tree heads of size ${head.treeSize} have different roots`);
    if (last && last.treeSize !== head.treeSize) {
      const [older, newer] = last.treeSize < head.treeSize ? [last, head] : [head, last];
      const res = await call(() => this.keys.getConsistencyProof({ fromSize: BigInt(older.treeSize), toSize: BigInt(newer.treeSize) }));
      const consistent = verifyConsistency({ fromSize: older.treeSize, toSize: newer.treeSize, fromRoot: older.rootHash, toRoot: newer.rootHash, proof: res.proof });
      if (!consistent) this.fork(`the log of size ${newer.treeSize} does not extend the log of size ${older.treeSize}`);
    }
    if (!last || head.treeSize > last.treeSize) {
      this.store.setValue(LAST_HEAD, { treeSize: head.treeSize, rootHash: b64(head.rootHash), timestampMs: head.timestampMs, signature: b64(signature) } satisfies StoredHead);
    }
  }

  private fork(detail: string): never {
    this.events.emit('logForked', detail);
    throw new KeyTransparencyError(`the key log forked: ${detail}`);
  }
}
