import fc from 'fast-check';
import {
  MerkleLog,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../../core/merkle';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const toHex = (hashes: Buffer[]): string[] => hashes.map((h) => h.toString('hex'));

// Reference data of the RFC 6962 test suite, as published in transparency-dev/merkle
// (testonly/constants.go: LeafInputs, NodeHashes, RootHashes; proof/verify_test.go: proofs).
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  hex,
);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** NODES[level][i]: root of the complete subtree of 2^level leaves starting at leaf i * 2^level. */
const NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];
const [A, B, C, D, E, F, J, LEAF7] = NODES[0];
const [G, H, I, M] = NODES[1]; // m = hash(j, leaf7)
const [K, L8] = NODES[2];
/** Inclusion proofs from proof/verify_test.go (0-based index here, 1-based there). */
const INCLUSION: [index: number, size: number, proof: string[]][] = [
  [0, 1, []],
  [0, 8, [B, H, L8]],
  [5, 8, [E, M, K]],
  [2, 3, [G]],
  [1, 5, [A, H, E]],
];
/** Consistency proofs from proof/verify_test.go. */
const CONSISTENCY: [oldSize: number, newSize: number, proof: string[]][] = [
  [1, 1, []],
  [1, 8, [B, H, L8]],
  [6, 8, [I, M, K]],
  [2, 5, [H, E]],
  [6, 7, [I, J, K]],
];
// Proof shapes from proof/proof_test.go (tree of 7: "l" is the size-7 node hash(i, j)), filled in from NODES.
const L7 = nodeHash(hex(I), hex(J)).toString('hex');
const INCLUSION_SHAPES: [number, number, string[]][] = [
  [0, 2, [B]],
  [1, 3, [A, C]],
  [0, 7, [B, H, L7]],
  [3, 7, [C, G, L7]],
  [4, 7, [F, J, K]],
  [6, 7, [I, K]],
  [2, 4, [D, G]],
  [3, 5, [C, G, E]],
  [3, 6, [C, G, I]],
  [4, 6, [F, K]],
];
const CONSISTENCY_SHAPES: [number, number, string[]][] = [
  [1, 2, [B]],
  [1, 4, [B, H]],
  [1, 6, [B, H, I]],
  [2, 3, [C]],
  [2, 8, [H, L8]],
  [3, 7, [C, D, G, L7]],
  [4, 7, [L7]],
  [5, 7, [E, F, J, K]],
  [7, 8, [J, LEAF7, I, K]],
  [3, 5, [C, D, G, E]],
  [4, 6, [I]],
];

const flipBit = (bytes: Uint8Array, bit: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy[Math.floor(bit / 8) % copy.length] ^= 1 << (bit % 8);
  return copy;
};

describe('RFC 6962 reference vectors', () => {
  it('computes the published roots for sizes 0..8', () => {
    expect(ROOTS.map((_, n) => rootHash(LEAVES.slice(0, n)).toString('hex'))).toEqual(ROOTS);
    expect(emptyRoot().toString('hex')).toBe(ROOTS[0]);
    expect(leafHash(LEAVES[0]).toString('hex')).toBe(A);
  });

  it('produces and verifies the published inclusion proofs', () => {
    for (const [index, size, proof] of [...INCLUSION, ...INCLUSION_SHAPES]) {
      expect(toHex(inclusionProof(LEAVES.slice(0, size), index))).toEqual(proof);
      expect(verifyInclusion(leafHash(LEAVES[index]), index, size, proof.map(hex), hex(ROOTS[size]))).toBe(true);
    }
  });

  it('produces and verifies the published consistency proofs', () => {
    for (const [oldSize, newSize, proof] of [...CONSISTENCY, ...CONSISTENCY_SHAPES]) {
      expect(toHex(consistencyProof(LEAVES.slice(0, newSize), oldSize))).toEqual(proof);
      const [oldRoot, newRoot] = [hex(ROOTS[oldSize]), hex(ROOTS[newSize])];
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.map(hex))).toBe(true);
    }
  });

  it('rejects the corrupted inclusion probes of transparency-dev/merkle', () => {
    const some = hex('abacaba000000000000000000000000000000000000000000060061e00123456');
    for (const [i, n, hexProof] of INCLUSION.slice(1)) {
      const [leaf, root, proof] = [leafHash(LEAVES[i]), hex(ROOTS[n]), hexProof.map(hex)];
      const probes: [number, number, Buffer, Buffer, Buffer[]][] = [
        [i - 1, n, leaf, root, proof],
        [i + 1, n, leaf, root, proof],
        [i ^ 2, n, leaf, root, proof],
        [i, n * 2, leaf, root, proof],
        [i, Math.floor(n / 2), leaf, root, proof],
        [i, n, Buffer.from('WrongLeaf'), root, proof],
        [i, n, leaf, hex(ROOTS[0]), proof],
        [i, n, leaf, some, proof],
        [i, n, leaf, root, [...proof, Buffer.alloc(0)]],
        [i, n, leaf, root, [...proof, root]],
        [i, n, leaf, root, [Buffer.alloc(0), ...proof]],
        [i, n, leaf, root, [root, ...proof]],
        [i, n, leaf, root, proof.slice(0, -1)],
        ...proof.map((_, k): [number, number, Buffer, Buffer, Buffer[]] => {
          return [i, n, leaf, root, proof.map((p, j) => (j === k ? flipBit(p, 3) : p))];
        }),
      ];
      for (const [index, size, leafH, rootH, proofH] of probes) {
        expect(verifyInclusion(leafH, index, size, proofH, rootH)).toBe(false);
      }
    }
  });

  it('rejects the corrupted consistency probes of transparency-dev/merkle', () => {
    for (const [m, n, hexProof] of CONSISTENCY.slice(1)) {
      const [r1, r2, proof] = [hex(ROOTS[m]), hex(ROOTS[n]), hexProof.map(hex)];
      const wrong = Buffer.alloc(32, 7);
      const probes: [number, number, Buffer, Buffer, Buffer[]][] = [
        [m - 1, n, r1, r2, proof],
        [m + 1, n, r1, r2, proof],
        [m ^ 2, n, r1, r2, proof],
        [m, n * 2, r1, r2, proof],
        [m, Math.floor(n / 2), r1, r2, proof],
        [m, n, wrong, r2, proof],
        [m, n, r1, wrong, proof],
        [m, n, r2, r1, proof],
        [m, n, r1, r2, []],
        [m, n, r1, r2, [...proof, r1]],
        [m, n, r1, r2, [...proof, r2]],
        [m, n, r1, r2, [r1, ...proof]],
        [m, n, r1, r2, [proof[0], ...proof]],
        [m, n, r1, r2, proof.slice(0, -1)],
        ...proof.map((_, k): [number, number, Buffer, Buffer, Buffer[]] => {
          return [m, n, r1, r2, proof.map((p, j) => (j === k ? flipBit(p, 4) : p))];
        }),
      ];
      for (const probe of probes) expect(verifyConsistency(...probe)).toBe(false);
    }
  });
});

describe('proof properties', () => {
  const distinctLeaves = fc.uniqueArray(fc.uint8Array({ maxLength: 8 }), {
    minLength: 1,
    maxLength: 64,
    selector: (leaf) => Buffer.from(leaf).toString('hex'),
  });
  // Padding leaves are longer than any generated one, so all leaves stay distinct.
  const padded = (leaves: Uint8Array[], total: number): MerkleLog =>
    new MerkleLog(
      [...leaves, ...Array.from({ length: total - leaves.length }, (_, k) => `padding-${k}`)].map((d) =>
        leafHash(typeof d === 'string' ? Buffer.from(d) : d),
      ),
    );
  const same = (a: Buffer[], b: Buffer[]): boolean => a.length === b.length && a.every((h, k) => h.equals(b[k]));

  it('every inclusion proof verifies, and any flipped bit, other index or other size fails', () => {
    fc.assert(
      fc.property(distinctLeaves, fc.nat(), fc.nat(), fc.nat(), (leaves, at, bit, other) => {
        const n = leaves.length;
        const index = at % n;
        const log = padded(leaves, 2 * n + 1);
        const [leaf, root, proof] = [log.leafHash(index), log.root(n), log.proveInclusion(index, n)];
        expect(verifyInclusion(leaf, index, n, proof, root)).toBe(true);
        expect(verifyInclusion(flipBit(leaf, bit), index, n, proof, root)).toBe(false);
        expect(verifyInclusion(leaf, index, n, proof, flipBit(root, bit))).toBe(false);
        if (proof.length > 0) {
          const k = other % proof.length;
          const tampered = proof.map((p, j) => (j === k ? flipBit(p, bit) : p));
          expect(verifyInclusion(leaf, index, n, tampered, root)).toBe(false);
        }
        // An extra element that would lift the proof above the root of a tree of this size.
        const extra = leafHash(Buffer.of(bit % 256));
        expect(verifyInclusion(leaf, index, n, [...proof, extra], nodeHash(extra, root))).toBe(false);
        const wrongIndex = (index + 1 + (other % (2 * n))) % (2 * n + 1);
        expect(verifyInclusion(leaf, wrongIndex, n, proof, root)).toBe(false);
        // A proof is only good for another size if it is that size's proof too (then it is correct there).
        const size = 1 + (other % (2 * n + 1));
        if (size !== n && index < size) {
          const good = same(proof, log.proveInclusion(index, size));
          expect(verifyInclusion(leaf, index, size, proof, log.root(size))).toBe(good);
        }
      }),
    );
  });

  it('consistency proofs for every (old, new) pair up to 40 leaves verify and fail when tampered', () => {
    const log = padded([], 41);
    const roots = Array.from({ length: 42 }, (_, size) => log.root(size));
    for (let n = 0; n <= 40; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = log.proveConsistency(m, n);
        expect(verifyConsistency(m, n, roots[m], roots[n], proof)).toBe(true);
        expect(verifyConsistency(m, n, flipBit(roots[m], m + n), roots[n], proof)).toBe(false);
        // The empty tree is a prefix of every tree, so only a non-empty old tree pins down the new root.
        if (m > 0) expect(verifyConsistency(m, n, roots[m], flipBit(roots[n], m * n), proof)).toBe(false);
        for (let k = 0; k < proof.length; k++) {
          const tampered = proof.map((p, j) => (j === k ? flipBit(p, k + m) : p));
          expect(verifyConsistency(m, n, roots[m], roots[n], tampered)).toBe(false);
        }
        expect(verifyConsistency(m, n, roots[m], roots[n], [...proof, roots[n]])).toBe(false);
        if (proof.length > 0) expect(verifyConsistency(m, n, roots[m], roots[n], proof.slice(1))).toBe(false);
        if (m > 0) {
          const [x, lift] = [roots[41], (root: Buffer): Buffer => nodeHash(roots[41], root)];
          expect(verifyConsistency(m, n, lift(roots[m]), lift(roots[n]), [...proof, x])).toBe(false);
        }
        for (const [m2, n2] of [
          [m - 1, n],
          [m + 1, n],
          [m, n - 1],
          [m, n + 1],
        ]) {
          if (m2 < 0 || m2 > n2) continue;
          const good = same(proof, log.proveConsistency(m2, n2));
          expect(verifyConsistency(m2, n2, roots[m2], roots[n2], proof)).toBe(good);
        }
      }
    }
  });

  it('handles sizes beyond 2^32 without bit-shift truncation', () => {
    const [leaf, left] = [leafHash(Buffer.from('last')), Buffer.alloc(32, 1)];
    const big = 2 ** 40;
    expect(verifyInclusion(leaf, big, big + 1, [left], nodeHash(left, leaf))).toBe(true);
    expect(verifyInclusion(leaf, big - 1, big + 1, [left], nodeHash(left, leaf))).toBe(false);
    expect(verifyConsistency(big, big + 1, left, nodeHash(left, leaf), [leaf])).toBe(true);
    expect(verifyConsistency(big, big + 1, left, nodeHash(leaf, left), [leaf])).toBe(false);
    expect(verifyConsistency(big - 1, big + 1, left, nodeHash(left, leaf), [leaf])).toBe(false);
  });

  it('treats empty and equal-size trees as the RFC does', () => {
    const root = rootHash(LEAVES);
    expect(verifyInclusion(leafHash(LEAVES[0]), 0, 0, [], emptyRoot())).toBe(false);
    expect(verifyConsistency(0, 8, emptyRoot(), root, [])).toBe(true);
    expect(verifyConsistency(0, 8, root, root, [])).toBe(false);
    expect(verifyConsistency(0, 0, emptyRoot(), emptyRoot(), [])).toBe(true);
    expect(verifyConsistency(8, 8, root, root, [])).toBe(true);
    expect(verifyConsistency(8, 8, root, root, [root])).toBe(false);
    expect(verifyConsistency(8, 8, root, emptyRoot(), [])).toBe(false);
    expect(verifyConsistency(8, 7, root, hex(ROOTS[7]), [])).toBe(false);
  });
});

describe('MerkleLog', () => {
  it('appends, answers for earlier sizes, and rebuilds from stored leaf hashes', () => {
    const log = new MerkleLog();
    expect(LEAVES.map((leaf) => log.append(leaf))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(log.size).toBe(8);
    expect(ROOTS.map((_, size) => log.root(size).toString('hex'))).toEqual(ROOTS);
    expect(toHex(log.proveInclusion(1, 5))).toEqual([A, H, E]);
    expect(toHex(log.proveConsistency(6))).toEqual([I, M, K]);
    const rebuilt = new MerkleLog(log.leafHashes());
    expect(rebuilt.root().toString('hex')).toBe(ROOTS[8]);
    expect(rebuilt.proveConsistency(2, 5)).toEqual(log.proveConsistency(2, 5));
  });

  it('hands out copies, so callers cannot corrupt the log', () => {
    const log = new MerkleLog(LEAVES.map(leafHash));
    log.proveInclusion(0)[0].fill(0);
    log.root().fill(0);
    log.leafHash(1).fill(0);
    expect(log.root().toString('hex')).toBe(ROOTS[8]);
    expect(toHex(log.proveInclusion(0))).toEqual([B, H, L8]);
  });

  it('throws RangeError saying what was wrong', () => {
    const log = new MerkleLog(LEAVES.map(leafHash));
    expect(() => log.proveInclusion(8)).toThrow(new RangeError('leaf index 8 is out of range for a tree of 8 leaves'));
    expect(() => log.proveInclusion(4, 4)).toThrow(RangeError);
    expect(() => log.proveInclusion(-1)).toThrow(RangeError);
    expect(() => log.proveInclusion(0.5)).toThrow(RangeError);
    expect(() => log.root(9)).toThrow(new RangeError('size must be an integer from 0 to the log size (8), got 9'));
    expect(() => log.proveConsistency(6, 5)).toThrow(/oldSize must be an integer from 0 to newSize \(5\), got 6/);
    expect(() => log.proveConsistency(1, 9)).toThrow(RangeError);
    expect(() => log.appendLeafHash(Buffer.alloc(31))).toThrow(new RangeError('leaf hash must be 32 bytes, got 31'));
    expect(() => inclusionProof([], 0)).toThrow(RangeError);
    expect(() => consistencyProof(LEAVES.slice(0, 3), 4)).toThrow(RangeError);
  });
});
