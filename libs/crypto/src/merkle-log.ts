/**
 * The RFC 6962 / RFC 9162 Merkle tree over SHA-256: leaf and node hashes, roots, and
 * inclusion and consistency proofs with their verifiers.
 *
 * The proof functions take every leaf hash and hash O(n) nodes per call. A server answering many
 * proofs for one tree size builds a MerkleTree once instead: O(n) to build, O(log n) per proof.
 * Verification is O(log n) and is what clients run.
 */
import { createHash } from 'node:crypto';

export const HASH_LENGTH = 32;

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, data);
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The largest power of two strictly less than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaves[start, end), end − start ≥ 1. */
function subtreeHash(leaves: readonly Uint8Array[], start: number, end: number): Uint8Array {
  if (end - start === 1) return leaves[start]!;
  const k = splitPoint(end - start);
  return nodeHash(subtreeHash(leaves, start, start + k), subtreeHash(leaves, start + k, end));
}

/** The root (MTH) of a tree whose leaves have these leaf hashes; SHA-256("") for an empty tree. */
export function rootHash(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return sha256();
  return subtreeHash(leafHashes, 0, leafHashes.length);
}

function checkIndex(value: number, min: number, max: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Halve (floor) without the 32-bit limit of `>>`. */
function half(n: number): number {
  return Math.floor(n / 2);
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

/** The audit path PATH(leafIndex, D[n]) of RFC 9162 §2.1.3.1, leaf-side first. */
export function inclusionProof(leafHashes: readonly Uint8Array[], leafIndex: number): Uint8Array[] {
  checkIndex(leafIndex, 0, leafHashes.length - 1, 'leafIndex');
  const path: Uint8Array[] = [];
  const walk = (m: number, start: number, end: number): void => {
    if (end - start === 1) return;
    const k = splitPoint(end - start);
    if (m < k) {
      walk(m, start, start + k);
      path.push(subtreeHash(leafHashes, start + k, end));
    } else {
      walk(m - k, start + k, end);
      path.push(subtreeHash(leafHashes, start, start + k));
    }
  };
  walk(leafIndex, 0, leafHashes.length);
  return path;
}

/** RFC 9162 §2.1.3.2: does `auditPath` prove `leafHash` is leaf `leafIndex` of the tree with `rootHash`? */
export function verifyInclusion(p: {
  leafHash: Uint8Array;
  leafIndex: number;
  treeSize: number;
  auditPath: readonly Uint8Array[];
  rootHash: Uint8Array;
}): boolean {
  if (!isCount(p.leafIndex) || !isCount(p.treeSize) || p.leafIndex >= p.treeSize) return false;
  if (p.leafHash.length !== HASH_LENGTH || p.rootHash.length !== HASH_LENGTH) return false;
  let fn = p.leafIndex;
  let sn = p.treeSize - 1;
  let r = p.leafHash;
  for (const element of p.auditPath) {
    if (sn === 0 || element.length !== HASH_LENGTH) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(element, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, element);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(r, p.rootHash);
}

/**
 * The consistency proof PROOF(fromSize, D[n]) of RFC 9162 §2.1.4.1 from the first `fromSize`
 * leaves to all of them. Empty when fromSize is 0 or n.
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], fromSize: number): Uint8Array[] {
  checkIndex(fromSize, 0, leafHashes.length, 'fromSize');
  const proof: Uint8Array[] = [];
  if (fromSize === 0 || fromSize === leafHashes.length) return proof;
  const sub = (m: number, start: number, end: number, complete: boolean): void => {
    if (m === end - start) {
      if (!complete) proof.push(subtreeHash(leafHashes, start, end));
      return;
    }
    const k = splitPoint(end - start);
    if (m <= k) {
      sub(m, start, start + k, complete);
      proof.push(subtreeHash(leafHashes, start + k, end));
    } else {
      sub(m - k, start + k, end, false);
      proof.push(subtreeHash(leafHashes, start, start + k));
    }
  };
  sub(fromSize, 0, leafHashes.length, true);
  return proof;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/**
 * RFC 9162 §2.1.4.2: is the tree (toSize, toRoot) an append-only extension of (fromSize, fromRoot)?
 * Equal sizes need an empty proof and equal roots; from the empty tree, an empty proof and
 * fromRoot = SHA-256("").
 */
export function verifyConsistency(p: {
  fromSize: number;
  toSize: number;
  fromRoot: Uint8Array;
  toRoot: Uint8Array;
  proof: readonly Uint8Array[];
}): boolean {
  if (!isCount(p.fromSize) || !isCount(p.toSize) || p.fromSize > p.toSize) return false;
  if (p.fromRoot.length !== HASH_LENGTH || p.toRoot.length !== HASH_LENGTH) return false;
  if (p.proof.some((element) => element.length !== HASH_LENGTH)) return false;
  if (p.fromSize === p.toSize) return p.proof.length === 0 && bytesEqual(p.fromRoot, p.toRoot);
  if (p.fromSize === 0) return p.proof.length === 0 && bytesEqual(p.fromRoot, rootHash([]));
  if (p.proof.length === 0) return false;

  const path = isPowerOfTwo(p.fromSize) ? [p.fromRoot, ...p.proof] : [...p.proof];
  let fn = p.fromSize - 1;
  let sn = p.toSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(fr, p.fromRoot) && bytesEqual(sr, p.toRoot);
}

/**
 * Every level of the tree over a fixed list of leaf hashes, built once in O(n) so that the root
 * and each inclusion proof are then lookups (O(log n)). Building bottom-up and carrying an odd
 * last node up unchanged gives exactly RFC 6962's left-balanced tree. For a log whose size
 * changes, build a new one per size.
 */
export class MerkleTree {
  private readonly levels: Uint8Array[][];

  constructor(leafHashes: readonly Uint8Array[]) {
    this.levels = [leafHashes.slice()];
    for (let level = this.levels[0]!; level.length > 1; ) {
      const next: Uint8Array[] = [];
      for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? nodeHash(level[i]!, level[i + 1]!) : level[i]!);
      this.levels.push(next);
      level = next;
    }
  }

  get size(): number {
    return this.levels[0]!.length;
  }

  get root(): Uint8Array {
    return this.size === 0 ? sha256() : this.levels[this.levels.length - 1]![0]!;
  }

  /** The same audit path as inclusionProof(leafHashes, leafIndex). */
  inclusionProof(leafIndex: number): Uint8Array[] {
    checkIndex(leafIndex, 0, this.size - 1, 'leafIndex');
    const path: Uint8Array[] = [];
    let index = leafIndex;
    for (const level of this.levels.slice(0, -1)) {
      const sibling = index ^ 1;
      if (sibling < level.length) path.push(level[sibling]!);
      index >>= 1;
    }
    return path;
  }
}
