/**
 * What the keys service appends to the identity-key log, and the check a client runs on a
 * bundle: the log's signature on the tree head and the inclusion of (user, device, key).
 *
 * Entry bytes (version 1):
 *   0x01 || u16be(len(userIdUtf8)) || userIdUtf8 || u32be(deviceId) || u16be(len(identityKey)) || identityKey
 */
import { leafHash, verifyInclusion } from './merkle-log.js';
import { type TreeHead, verifyTreeHead } from './tree-head.js';

export const IDENTITY_LOG_ENTRY_VERSION = 1;

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/** The canonical log entry. Throws RangeError if a field does not fit its length prefix. */
export function identityLogEntry(userId: string, deviceId: number, identityKey: Uint8Array): Uint8Array {
  const user = new TextEncoder().encode(userId);
  if (user.length > U16_MAX) throw new RangeError(`userId must be at most ${U16_MAX} UTF-8 bytes, got ${user.length}`);
  if (!Number.isInteger(deviceId) || deviceId < 0 || deviceId > U32_MAX) {
    throw new RangeError(`deviceId must be an integer in [0, ${U32_MAX}], got ${deviceId}`);
  }
  if (identityKey.length > U16_MAX) {
    throw new RangeError(`identityKey must be at most ${U16_MAX} bytes, got ${identityKey.length}`);
  }
  const out = new Uint8Array(1 + 2 + user.length + 4 + 2 + identityKey.length);
  const view = new DataView(out.buffer);
  let at = 0;
  view.setUint8(at, IDENTITY_LOG_ENTRY_VERSION);
  at += 1;
  view.setUint16(at, user.length);
  at += 2;
  out.set(user, at);
  at += user.length;
  view.setUint32(at, deviceId);
  at += 4;
  view.setUint16(at, identityKey.length);
  at += 2;
  out.set(identityKey, at);
  return out;
}

/**
 * The client-side check of a bundle's identity key: the tree head is signed by the log key,
 * and the entry for (userId, deviceId, identityKey) is leaf `leafIndex` of that head's tree.
 * Needs `await cryptoReady()` first. Returns false, never throws, for bad or malformed proofs.
 */
export function verifyIdentityKeyInclusion(args: {
  userId: string;
  deviceId: number;
  identityKey: Uint8Array;
  leafIndex: number;
  auditPath: readonly Uint8Array[];
  head: TreeHead;
  signature: Uint8Array;
  logPublicKey: Uint8Array;
}): boolean {
  if (!verifyTreeHead(args.head, args.signature, args.logPublicKey)) return false;
  let entry: Uint8Array;
  try {
    entry = identityLogEntry(args.userId, args.deviceId, args.identityKey);
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
  return verifyInclusion({
    leafHash: leafHash(entry),
    leafIndex: args.leafIndex,
    treeSize: args.head.treeSize,
    auditPath: args.auditPath,
    rootHash: args.head.rootHash,
  });
}
