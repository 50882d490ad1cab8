import { createHash } from 'node:crypto';

/**
 * RFC 6962 (Certificate Transparency) Merkle tree over byte-string leaves, with RFC 9162 proof
 * verification. Everything works from leaf hashes, so a log can be rebuilt from stored hashes alone.
 *
 * Building proofs throws `RangeError` for impossible arguments; verifying never throws, because what it
 * checks usually came from somewhere untrusted: any wrong input simply makes it return `false`.
 */

/** Size in bytes of every hash in the tree (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = Buffer.of(0x01);

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** Root of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}

/** Merkle tree hash (MTH) of a list of leaves. */
export function rootHash(leaves: readonly Uint8Array[]): Buffer {
  return fromLeaves(leaves).root();
}

/** RFC 6962 audit path for `leaves[index]`, deepest sibling first. */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Buffer[] {
  return fromLeaves(leaves).proveInclusion(index);
}

/** RFC 6962 consistency proof that the first `oldSize` leaves are a prefix of `leaves`. */
export function consistencyProof(leaves: readonly Uint8Array[], oldSize: number): Buffer[] {
  return fromLeaves(leaves).proveConsistency(oldSize);
}

/**
 * Checks that `leaf` (a leaf hash) sits at `index` in the tree of `treeSize` leaves whose root is `root`
 * (RFC 9162 section 2.1.3.2). A wrong index, size, proof length or any wrong hash yields `false`.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isCount(index) || !isCount(treeSize) || index >= treeSize) return false;
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false; // Proof longer than the path to the root.
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // Skip the levels where this node has no right sibling (the right edge of an unbalanced tree).
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = nodeHash(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && bytesEqual(r, root);
}

/**
 * Checks that the tree of `newSize` leaves with root `newRoot` extends the tree of `oldSize` leaves with
 * root `oldRoot` (RFC 9162 section 2.1.4.2). Equal sizes need equal roots and an empty proof; an old size
 * of 0 needs the empty-tree root and an empty proof.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isCount(oldSize) || !isCount(newSize) || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !proof.every(isHash)) return false;
  if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0 && bytesEqual(oldRoot, emptyRoot());
  if (proof.length === 0) return false;
  // When the old tree is a complete subtree of the new one, the proof leaves out its root.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) [fn, sn] = [half(fn), half(sn)];
  let fr: Uint8Array = path[0];
  let sr: Uint8Array = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = nodeHash(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot);
}

/**
 * Append-only Merkle log over leaf hashes. Callers persist `leafHashes()` (or each hash `append`
 * produced) and rebuild with `new MerkleLog(storedHashes)`. Roots and proofs for any earlier size are
 * available, so old checkpoints can still be proven consistent with the current tree.
 */
export class MerkleLog {
  /** `levels[h][i]` is the hash of the complete subtree of 2^h leaves starting at leaf i * 2^h. */
  readonly #levels: Buffer[][] = [[]];

  /** Rebuilds a log from previously stored leaf hashes (each 32 bytes), in order. */
  constructor(leafHashes: Iterable<Uint8Array> = []) {
    for (const hash of leafHashes) this.appendLeafHash(hash);
  }

  /** Number of leaves. */
  get size(): number {
    return this.#levels[0].length;
  }

  /** Hashes `data` as a leaf, appends it and returns its index. */
  append(data: Uint8Array): number {
    return this.appendLeafHash(leafHash(data));
  }

  /** Appends an already computed leaf hash and returns its index. */
  appendLeafHash(hash: Uint8Array): number {
    if (!isHash(hash)) throw new RangeError(`leaf hash must be ${HASH_SIZE} bytes, got ${hash.length}`);
    const index = this.size;
    let node: Buffer = Buffer.from(hash);
    for (let h = 0; ; h++) {
      const level = (this.#levels[h] ??= []);
      level.push(node);
      if (level.length % 2 === 1) return index;
      node = nodeHash(level[level.length - 2], node); // A subtree one level up just became complete.
    }
  }

  /** Copy of the leaf hash at `index`. */
  leafHash(index: number): Buffer {
    checkIndex(index, this.size);
    return Buffer.from(this.#levels[0][index]);
  }

  /** Copies of all leaf hashes, in order: what a caller persists. */
  leafHashes(): Buffer[] {
    return this.#levels[0].map((hash) => Buffer.from(hash));
  }

  /** Root of the tree made of the first `size` leaves (default: all). */
  root(size = this.size): Buffer {
    checkSize('size', size, this.size);
    return size === 0 ? emptyRoot() : Buffer.from(this.#subtree(0, size));
  }

  /** Inclusion proof for leaf `index` in the tree of the first `size` leaves (default: all). */
  proveInclusion(index: number, size = this.size): Buffer[] {
    checkSize('size', size, this.size);
    checkIndex(index, size);
    return this.#path(index, 0, size).map((hash) => Buffer.from(hash));
  }

  /** Consistency proof from the tree of `oldSize` leaves to the tree of `newSize` leaves (default: all). */
  proveConsistency(oldSize: number, newSize = this.size): Buffer[] {
    checkSize('newSize', newSize, this.size);
    if (!isCount(oldSize) || oldSize > newSize) {
      throw new RangeError(`oldSize must be an integer from 0 to newSize (${newSize}), got ${oldSize}`);
    }
    if (oldSize === 0 || oldSize === newSize) return [];
    return this.#subproof(oldSize, 0, newSize, true).map((hash) => Buffer.from(hash));
  }

  /** MTH(D[lo:hi]). RFC 6962 splits only ever produce ranges aligned to their largest power of two. */
  #subtree(lo: number, hi: number): Buffer {
    const n = hi - lo;
    if (isPowerOfTwo(n)) return this.#levels[log2(n)][lo / n];
    const k = splitPoint(n);
    return nodeHash(this.#subtree(lo, lo + k), this.#subtree(lo + k, hi));
  }

  /** RFC 6962 section 2.1.1 PATH(m, D[lo:hi]), with m relative to lo. */
  #path(m: number, lo: number, hi: number): Buffer[] {
    const n = hi - lo;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...this.#path(m, lo, lo + k), this.#subtree(lo + k, hi)]
      : [...this.#path(m - k, lo + k, hi), this.#subtree(lo, lo + k)];
  }

  /** RFC 6962 section 2.1.2 SUBPROOF(m, D[lo:hi], b), with m relative to lo. */
  #subproof(m: number, lo: number, hi: number, complete: boolean): Buffer[] {
    const n = hi - lo;
    if (m === n) return complete ? [] : [this.#subtree(lo, hi)];
    const k = splitPoint(n);
    return m <= k
      ? [...this.#subproof(m, lo, lo + k, complete), this.#subtree(lo + k, hi)]
      : [...this.#subproof(m - k, lo + k, hi, false), this.#subtree(lo, lo + k)];
  }
}

function fromLeaves(leaves: readonly Uint8Array[]): MerkleLog {
  return new MerkleLog(leaves.map(leafHash));
}

function checkSize(name: string, size: number, max: number): void {
  if (!isCount(size) || size > max) {
    throw new RangeError(`${name} must be an integer from 0 to the log size (${max}), got ${size}`);
  }
}

function checkIndex(index: number, size: number): void {
  if (!isCount(index) || index >= size) {
    throw new RangeError(`leaf index ${index} is out of range for a tree of ${size} leaves`);
  }
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isHash(bytes: Uint8Array): boolean {
  return bytes instanceof Uint8Array && bytes.length === HASH_SIZE;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** log2(n) === n;
}

/** Floor of log2(n) for n >= 1; a loop because Math.log2 is not guaranteed exact. */
function log2(n: number): number {
  let h = 0;
  while (2 ** (h + 1) <= n) h++;
  return h;
}

/** The largest power of two smaller than n (n >= 2): the RFC 6962 split point. */
function splitPoint(n: number): number {
  return 2 ** log2(n - 1);
}

// Division rather than `>>`, which would truncate sizes above 2^31.
function half(n: number): number {
  return Math.floor(n / 2);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
