import fc from 'fast-check';
import { MemoryAuditStore } from '../../../audit/store-memory';
import type { VerifyOptions } from '../../../audit/verify';
import { verifyAuditStore } from '../../../audit/verify';

/**
 * Tampering with a copy of an audit store, for property tests: each mutation flips bits, deletes,
 * reorders (swaps two objects' contents) or truncates one object, on a fresh in-memory copy, and the
 * verifier must report at least one problem. The memory store keeps no digests of its own, so what
 * is caught is caught by the verifier, not by the store.
 */
export type Mutation =
  | { kind: 'flip'; key: string; at: number; mask: number }
  | { kind: 'delete'; key: string }
  | { kind: 'swap'; a: string; b: string }
  | { kind: 'truncate'; key: string; length: number };

export function applyMutation(objects: Map<string, Buffer>, m: Mutation): MemoryAuditStore {
  const copy = new MemoryAuditStore(objects);
  const map = copy.objects;
  switch (m.kind) {
    case 'flip': {
      const bytes = Buffer.from(map.get(m.key)!);
      bytes[m.at % bytes.length] ^= m.mask;
      map.set(m.key, bytes);
      break;
    }
    case 'delete':
      map.delete(m.key);
      break;
    case 'swap': {
      const a = map.get(m.a)!;
      map.set(m.a, map.get(m.b)!);
      map.set(m.b, a);
      break;
    }
    case 'truncate':
      map.set(m.key, map.get(m.key)!.subarray(0, m.length));
      break;
  }
  return copy;
}

/** An arbitrary mutation of one of `objects` (never a no-op). */
export function mutationArb(objects: Map<string, Buffer>): fc.Arbitrary<Mutation> {
  const keys = [...objects.keys()].filter((k) => objects.get(k)!.length > 0);
  const key = fc.constantFrom(...keys);
  const distinct = fc
    .tuple(key, key)
    .filter(([a, b]) => a !== b && !objects.get(a)!.equals(objects.get(b)!))
    .map(([a, b]): Mutation => ({ kind: 'swap', a, b }));
  return fc.oneof(
    fc
      .tuple(key, fc.nat(), fc.integer({ min: 1, max: 255 }))
      .map(([k, at, mask]): Mutation => ({ kind: 'flip', key: k, at, mask })),
    key.map((k): Mutation => ({ kind: 'delete', key: k })),
    distinct,
    key.chain((k) =>
      fc.nat({ max: objects.get(k)!.length - 1 }).map((length): Mutation => ({ kind: 'truncate', key: k, length })),
    ),
  );
}

/** Runs `runs` random mutations; each must make verification fail. Returns how many ran. */
export async function expectEveryMutationDetected(
  objects: Map<string, Buffer>,
  options: VerifyOptions,
  runs = 1000,
  seed?: number,
): Promise<number> {
  let count = 0;
  await fc.assert(
    fc.asyncProperty(mutationArb(objects), async (mutation) => {
      count++;
      const result = await verifyAuditStore(applyMutation(objects, mutation), { deep: false, ...options });
      if (result.ok) throw new Error(`undetected mutation: ${JSON.stringify(mutation)}`);
    }),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
  );
  return count;
}
