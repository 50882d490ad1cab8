import type {
  AuditStore,
  AuditStoreDescription,
  LegalHoldChange,
  PutOnceOptions,
  PutOnceResult,
  StoredObject,
} from './store';
import { AuditObjectNotFound, WriteOnceViolation, checkDigest, validateKey, validatePrefix } from './store';
import { sha256Hex } from '../core/hash';

/**
 * An in-memory audit store with the write-once contract, for tests and benchmarks. It keeps no
 * digests of its own: whatever is in `objects` is what reads return, so a tamper test can mutate
 * the map directly and see what the verifier — not the store — catches.
 */
export class MemoryAuditStore implements AuditStore {
  readonly kind = 'fs' as const;
  readonly objects: Map<string, Buffer>;
  /** Keys under legal hold. */
  readonly held = new Set<string>();

  constructor(objects: Iterable<[string, Uint8Array]> = []) {
    this.objects = new Map([...objects].map(([k, v]) => [k, Buffer.from(v)]));
  }

  async putOnce(key: string, bytes: Uint8Array, options: PutOnceOptions): Promise<PutOnceResult> {
    validateKey(key);
    const digest = checkDigest(key, bytes, options.sha256Hex);
    const existing = this.objects.get(key);
    if (existing) {
      const existingDigest = sha256Hex(existing);
      if (existingDigest !== digest) throw new WriteOnceViolation(key, existingDigest, digest);
      return { key, created: false, sha256Hex: digest, size: bytes.byteLength };
    }
    this.objects.set(key, Buffer.from(bytes));
    return { key, created: true, sha256Hex: digest, size: bytes.byteLength };
  }

  async get(key: string): Promise<Buffer> {
    const bytes = this.objects.get(validateKey(key));
    if (!bytes) throw new AuditObjectNotFound(key);
    return Buffer.from(bytes);
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(validateKey(key));
  }

  async list(prefix = ''): Promise<string[]> {
    validatePrefix(prefix);
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Every entry of the map; a map key that is not a valid audit key is reported as such. */
  async inventory(): Promise<StoredObject[]> {
    return [...this.objects.keys()].sort().map((name) => {
      try {
        return { name, key: validateKey(name) };
      } catch {
        return { name, anomaly: 'not a valid audit key' };
      }
    });
  }

  async setLegalHold(keys: readonly string[], on: boolean): Promise<LegalHoldChange[]> {
    for (const key of keys) if (!this.objects.has(validateKey(key))) throw new AuditObjectNotFound(key);
    for (const key of keys) {
      if (on) this.held.add(key);
      else this.held.delete(key);
    }
    return keys.map((key) => ({ key, held: on }));
  }

  async isHeld(key: string): Promise<boolean> {
    if (!this.objects.has(validateKey(key))) throw new AuditObjectNotFound(key);
    return this.held.has(key);
  }

  describe(): AuditStoreDescription {
    return { kind: 'fs', location: 'memory', guarantee: 'in-memory write-once map (tests and benchmarks only)' };
  }

  /** Copies every object of another store (e.g. to tamper with a copy of a real store). */
  static async copyOf(store: AuditStore): Promise<MemoryAuditStore> {
    const copy = new MemoryAuditStore();
    for (const key of await store.list()) copy.objects.set(key, await store.get(key));
    return copy;
  }
}
