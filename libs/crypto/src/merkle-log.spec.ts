import { createHash } from 'node:crypto';
import {
  MerkleTree,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle-log';

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const tamper = (b: Uint8Array): Uint8Array => {
  const out = Uint8Array.from(b);
  out[0]! ^= 1;
  return out;
};
const leaves = (n: number, tag = 'leaf'): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${tag} ${i}`)));

// The leaves of the RFC 6962 reference tests (certificate-transparency, merkle_tree_test).
const CT_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const ctLeaves = CT_INPUTS.map((s) => leafHash(unhex(s)));

describe('hashes and roots (known answers)', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 domain prefixes', () => {
    const a = unhex('0102');
    expect(leafHash(a)).toEqual(sha256(Uint8Array.of(0, 1, 2)));
    const l = sha256(unhex('aa'));
    const r = sha256(unhex('bb'));
    expect(nodeHash(l, r)).toEqual(sha256(Uint8Array.of(1), l, r));
    expect(nodeHash(l, r)).not.toEqual(nodeHash(r, l));
  });

  it('gives SHA-256 of the empty string for the empty tree', () => {
    expect(hex(rootHash([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('computes small roots as worked out by hand', () => {
    const [a, b, c, d, e] = leaves(5) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const node = (x: Uint8Array, y: Uint8Array) => sha256(Uint8Array.of(1), x, y);
    expect(rootHash([a])).toEqual(a);
    expect(rootHash([a, b])).toEqual(node(a, b));
    expect(rootHash([a, b, c])).toEqual(node(node(a, b), c));
    expect(rootHash([a, b, c, d])).toEqual(node(node(a, b), node(c, d)));
    expect(rootHash([a, b, c, d, e])).toEqual(node(node(node(a, b), node(c, d)), e));
  });

  it('matches the RFC 6962 reference roots for sizes 1 to 8', () => {
    for (let n = 1; n <= 8; n++) expect(hex(rootHash(ctLeaves.slice(0, n)))).toBe(CT_ROOTS[n - 1]);
  });

  it('matches reference inclusion and consistency proofs', () => {
    expect(inclusionProof(ctLeaves, 0).map(hex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(consistencyProof(ctLeaves, 6).map(hex)).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(consistencyProof(ctLeaves.slice(0, 5), 2).map(hex)).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
  });
});

const MAX = 40;
const all = leaves(MAX + 1);
const pathLengths = new Map<string, number>();
const pathLength = (size: number, index: number): number => {
  const key = `${size}/${index}`;
  if (!pathLengths.has(key)) pathLengths.set(key, inclusionProof(all.slice(0, size), index).length);
  return pathLengths.get(key)!;
};

describe('inclusion proofs, every index of every tree of size 1..40', () => {
  it('verify, with a path of ceil(log2 n) or fewer elements', () => {
    for (let n = 1; n <= MAX; n++) {
      const tree = all.slice(0, n);
      const root = rootHash(tree);
      for (let i = 0; i < n; i++) {
        const auditPath = inclusionProof(tree, i);
        expect(auditPath.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyInclusion({ leafHash: tree[i]!, leafIndex: i, treeSize: n, auditPath, rootHash: root })).toBe(true);
      }
    }
  });

  it('fail for a tampered leaf, path element or root, another index, or a truncated or extended path', () => {
    for (let n = 1; n <= MAX; n++) {
      const tree = all.slice(0, n);
      const root = rootHash(tree);
      for (let i = 0; i < n; i++) {
        const auditPath = inclusionProof(tree, i);
        const ok = { leafHash: tree[i]!, leafIndex: i, treeSize: n, auditPath, rootHash: root };
        expect(verifyInclusion({ ...ok, leafHash: tamper(tree[i]!) })).toBe(false);
        expect(verifyInclusion({ ...ok, rootHash: tamper(root) })).toBe(false);
        auditPath.forEach((_, k) => {
          const bad = auditPath.map((e, j) => (j === k ? tamper(e) : e));
          expect(verifyInclusion({ ...ok, auditPath: bad })).toBe(false);
        });
        for (let j = 0; j < n; j++) if (j !== i) expect(verifyInclusion({ ...ok, leafIndex: j })).toBe(false);
        expect(verifyInclusion({ ...ok, leafIndex: n })).toBe(false);
        if (auditPath.length > 0) expect(verifyInclusion({ ...ok, auditPath: auditPath.slice(1) })).toBe(false);
        expect(verifyInclusion({ ...ok, auditPath: [...auditPath, root] })).toBe(false);
      }
    }
  });

  it('fail for a wrong tree size whenever that size has a path of another length', () => {
    for (let n = 1; n <= MAX; n++) {
      const tree = all.slice(0, n);
      const root = rootHash(tree);
      for (let i = 0; i < n; i++) {
        const auditPath = inclusionProof(tree, i);
        for (let size = i + 1; size <= MAX + 1; size++) {
          if (size === n || pathLength(size, i) === auditPath.length) continue;
          const p = { leafHash: tree[i]!, leafIndex: i, treeSize: size, auditPath, rootHash: root };
          expect(verifyInclusion(p)).toBe(false);
        }
      }
    }
  });

  it('do not bind the tree size on their own (the signed tree head does)', () => {
    // Leaf 0 of 8 and leaf 0 of 5 have paths of the same shape, so the proof alone cannot tell
    // the sizes apart; a verifier must take the size from the signed head that carries the root.
    const eight = all.slice(0, 8);
    const p = { leafHash: all[0]!, leafIndex: 0, auditPath: inclusionProof(eight, 0), rootHash: rootHash(eight) };
    expect(verifyInclusion({ ...p, treeSize: 5 })).toBe(true);
    expect(verifyInclusion({ ...p, treeSize: 4 })).toBe(false);
    expect(verifyInclusion({ ...p, treeSize: 9 })).toBe(false);
  });

  it('reject malformed arguments', () => {
    const tree = all.slice(0, 4);
    const ok = { leafHash: tree[1]!, leafIndex: 1, treeSize: 4, auditPath: inclusionProof(tree, 1), rootHash: rootHash(tree) };
    expect(verifyInclusion({ ...ok, leafIndex: -1 })).toBe(false);
    expect(verifyInclusion({ ...ok, leafIndex: 1.5 })).toBe(false);
    expect(verifyInclusion({ ...ok, treeSize: 0 })).toBe(false);
    expect(verifyInclusion({ ...ok, leafHash: tree[1]!.subarray(1) })).toBe(false);
    expect(verifyInclusion({ ...ok, auditPath: ok.auditPath.map((e) => e.subarray(0, 31)) })).toBe(false);
    expect(() => inclusionProof(tree, 4)).toThrow(RangeError);
    expect(() => inclusionProof([], 0)).toThrow(RangeError);
  });
});

describe('consistency proofs, every fromSize of every tree of size 1..40', () => {
  it('verify', () => {
    for (let n = 1; n <= MAX; n++) {
      const toRoot = rootHash(all.slice(0, n));
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(all.slice(0, n), m);
        if (m === 0 || m === n) expect(proof).toEqual([]);
        const fromRoot = rootHash(all.slice(0, m));
        expect(verifyConsistency({ fromSize: m, toSize: n, fromRoot, toRoot, proof })).toBe(true);
      }
    }
  });

  it('fail for a tampered element or root, another fromSize, or a truncated or extended proof', () => {
    for (let n = 2; n <= MAX; n++) {
      const toRoot = rootHash(all.slice(0, n));
      for (let m = 1; m < n; m++) {
        const proof = consistencyProof(all.slice(0, n), m);
        const ok = { fromSize: m, toSize: n, fromRoot: rootHash(all.slice(0, m)), toRoot, proof };
        proof.forEach((_, k) => {
          const bad = proof.map((e, j) => (j === k ? tamper(e) : e));
          expect(verifyConsistency({ ...ok, proof: bad })).toBe(false);
        });
        expect(verifyConsistency({ ...ok, fromRoot: tamper(ok.fromRoot) })).toBe(false);
        expect(verifyConsistency({ ...ok, toRoot: tamper(toRoot) })).toBe(false);
        for (let other = 0; other <= n; other++) {
          if (other !== m) expect(verifyConsistency({ ...ok, fromSize: other })).toBe(false);
        }
        expect(verifyConsistency({ ...ok, proof: proof.slice(1) })).toBe(false);
        expect(verifyConsistency({ ...ok, proof: proof.slice(0, -1) })).toBe(false);
        expect(verifyConsistency({ ...ok, proof: [...proof, toRoot] })).toBe(false);
        expect(verifyConsistency({ ...ok, fromSize: n + 1, toSize: n })).toBe(false);
      }
    }
  });

  it('treats equal sizes and the empty tree strictly', () => {
    const tree = all.slice(0, 5);
    const root = rootHash(tree);
    expect(verifyConsistency({ fromSize: 5, toSize: 5, fromRoot: root, toRoot: root, proof: [] })).toBe(true);
    expect(verifyConsistency({ fromSize: 5, toSize: 5, fromRoot: root, toRoot: tamper(root), proof: [] })).toBe(false);
    expect(verifyConsistency({ fromSize: 5, toSize: 5, fromRoot: root, toRoot: root, proof: [root] })).toBe(false);
    expect(verifyConsistency({ fromSize: 0, toSize: 5, fromRoot: rootHash([]), toRoot: root, proof: [] })).toBe(true);
    expect(verifyConsistency({ fromSize: 0, toSize: 5, fromRoot: root, toRoot: root, proof: [] })).toBe(false);
    expect(verifyConsistency({ fromSize: 3, toSize: 5, fromRoot: rootHash(all.slice(0, 3)), toRoot: root, proof: [] })).toBe(
      false,
    );
    expect(() => consistencyProof(tree, 6)).toThrow(RangeError);
    expect(() => consistencyProof(tree, -1)).toThrow(RangeError);
  });
});

describe('a forked log', () => {
  // Two logs of 12 leaves that agree except at leaf 5.
  const honest = all.slice(0, 12);
  const forked = honest.map((h, i) => (i === 5 ? leafHash(new TextEncoder().encode('a different key')) : h));
  const honestRoot = rootHash(honest);
  const forkedRoot = rootHash(forked);

  it('has two roots for one size', () => {
    expect(forkedRoot).not.toEqual(honestRoot);
  });

  it('is not consistent with an old head taken after the forked leaf', () => {
    for (const oldSize of [6, 7, 8, 11]) {
      const oldRoot = rootHash(honest.slice(0, oldSize));
      const proof = consistencyProof(forked, oldSize);
      expect(verifyConsistency({ fromSize: oldSize, toSize: 12, fromRoot: oldRoot, toRoot: forkedRoot, proof })).toBe(false);
      const honestProof = consistencyProof(honest, oldSize);
      expect(verifyConsistency({ fromSize: oldSize, toSize: 12, fromRoot: oldRoot, toRoot: honestRoot, proof: honestProof })).toBe(
        true,
      );
    }
  });

  it('has no consistency proof between its two same-size heads', () => {
    expect(verifyConsistency({ fromSize: 12, toSize: 12, fromRoot: honestRoot, toRoot: forkedRoot, proof: [] })).toBe(false);
  });

  it('gives inclusion proofs that fail against the other root, for every leaf', () => {
    for (let i = 0; i < 12; i++) {
      const auditPath = inclusionProof(honest, i);
      const p = { leafHash: honest[i]!, leafIndex: i, treeSize: 12, auditPath };
      expect(verifyInclusion({ ...p, rootHash: honestRoot })).toBe(true);
      expect(verifyInclusion({ ...p, rootHash: forkedRoot })).toBe(false);
    }
  });
});

describe('MerkleTree', () => {
  it('has the same root and audit paths as the recursive definition, for every size and index', () => {
    for (let n = 0; n <= 40; n++) {
      const hashes = leaves(n);
      const tree = new MerkleTree(hashes);
      expect([n, hex(tree.root)]).toEqual([n, hex(rootHash(hashes))]);
      for (let i = 0; i < n; i++) expect([n, i, tree.inclusionProof(i).map(hex)]).toEqual([n, i, inclusionProof(hashes, i).map(hex)]);
    }
  });

  it('keeps its own copy of the leaves and refuses an index outside the tree', () => {
    const hashes = leaves(5);
    const tree = new MerkleTree(hashes);
    const root = hex(tree.root);
    hashes.push(leafHash(Uint8Array.of(9)));
    expect([tree.size, hex(tree.root)]).toEqual([5, root]);
    expect(() => tree.inclusionProof(5)).toThrow(RangeError);
  });
});
