import { MerkleLog } from '../core/merkle';
import type { SignerKey } from '../core/signed-note';
import { formatCheckpoint, parseSignerKey, signNote } from '../core/signed-note';
import { jsonBytes } from './bundle';
import type { AuditStore } from './store';
import { WriteOnceViolation } from './store';
import { sha256Hex } from '../core/hash';

/**
 * The audit log: an append-only RFC 6962 Merkle tree whose leaves commit to bundle manifests, kept in
 * the write-once store next to the bundles.
 *
 *   log/leaves/<index, 12 digits>.json   one leaf record (canonical JSON): index, manifest key and
 *                                        sha256, workflow/run ids, close and export time — or a legal
 *                                        hold placed or lifted (`kind: "legal-hold"`). The Merkle leaf
 *                                        is exactly these bytes, so every field is covered.
 *   checkpoints/<size>.note              C2SP signed note over a tlog checkpoint
 *                                        (origin, size, root) with one extension line `prev <size>`
 *                                        naming the previous checkpoint, so a deleted one is noticed.
 *   cosignatures/<size>/<key id>.sig     a witness's cosignature line for that checkpoint (witness.ts)
 *
 * A leaf is appended once per manifest; re-exporting a run finds its manifest in the log and appends
 * nothing, and a checkpoint is only written when the tree grew — hence "exporting twice writes nothing".
 * One exporter appends at a time (the export workflow runs its activities in sequence); a second
 * writer racing for the same index loses on the store's write-once check and reloads.
 */
export const LEAVES_PREFIX = 'log/leaves/';
export const CHECKPOINTS_PREFIX = 'checkpoints/';
export const COSIGNATURES_PREFIX = 'cosignatures/';

/** A bundle's leaf: the run's manifest, committed to by its SHA-256. */
export interface LogEntry {
  index: number;
  manifestKey: string;
  manifestSha256: string;
  workflowId: string;
  runId: string;
  closedAt?: string;
  exportedAt: string;
}

/** A legal hold placed (`hold: true`) or lifted on a mission's audit objects, and by whom and why. */
export interface HoldRecord {
  index: number;
  kind: 'legal-hold';
  missionId: string;
  hold: boolean;
  reason: string;
  by: string;
  at: string;
  /** The store keys whose records the hold covers. */
  keys: string[];
}

export type LeafRecord = LogEntry | HoldRecord;

export function isHoldRecord(record: LeafRecord): record is HoldRecord {
  return (record as HoldRecord).kind === 'legal-hold';
}

export function leafKey(index: number): string {
  return `${LEAVES_PREFIX}${String(index).padStart(12, '0')}.json`;
}

export function checkpointKey(size: number): string {
  return `${CHECKPOINTS_PREFIX}${size}.note`;
}

/** Where a witness's cosignature of checkpoint `size` is kept, by the witness's 32-bit key ID. */
export function cosignatureKey(size: number, keyId: number): string {
  return `${COSIGNATURES_PREFIX}${size}/${keyId.toString(16).padStart(8, '0')}.sig`;
}

export const COSIGNATURE_KEY = /^cosignatures\/(0|[1-9][0-9]*)\/([0-9a-f]{8})\.sig$/;

/** Sizes of the checkpoints in the store, ascending (names that are not `<size>.note` are skipped). */
export async function checkpointSizes(store: AuditStore): Promise<number[]> {
  const sizes: number[] = [];
  for (const key of await store.list(CHECKPOINTS_PREFIX)) {
    const match = /^checkpoints\/(0|[1-9][0-9]*)\.note$/.exec(key);
    if (match) sizes.push(Number(match[1]));
  }
  return sizes.sort((a, b) => a - b);
}

export function defaultOrigin(namespace: string): string {
  return `mandate/audit/${namespace}`;
}

export class AuditLog {
  private entries: LeafRecord[] = [];
  private byManifest = new Map<string, LogEntry>();
  private merkle = new MerkleLog();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly store: AuditStore,
    readonly origin: string,
  ) {}

  /** Reads every leaf record; a malformed or out-of-order record is an error (run `audit verify`). */
  static async load(store: AuditStore, origin: string): Promise<AuditLog> {
    const log = new AuditLog(store, origin);
    await log.reload();
    return log;
  }

  get size(): number {
    return this.entries.length;
  }

  find(manifestSha256: string): LogEntry | undefined {
    return this.byManifest.get(manifestSha256);
  }

  /** Whether a leaf records this manifest key (the run was fully exported). */
  hasManifestKey(key: string): boolean {
    return this.bundles().some((entry) => entry.manifestKey === key);
  }

  /** The latest close time among exported runs: the exporter's cursor. */
  latestClosedAt(): string | undefined {
    let latest: string | undefined;
    for (const entry of this.bundles())
      if (entry.closedAt && (!latest || entry.closedAt > latest)) latest = entry.closedAt;
    return latest;
  }

  /** Every leaf record, in log order. */
  records(): readonly LeafRecord[] {
    return this.entries;
  }

  bundles(): LogEntry[] {
    return this.entries.filter((entry): entry is LogEntry => !isHoldRecord(entry));
  }

  /** RFC 6962 inclusion proof of leaf `index` in the tree of the first `size` leaves. */
  proveInclusion(index: number, size = this.size): Buffer[] {
    return this.merkle.proveInclusion(index, size);
  }

  /** RFC 6962 consistency proof between two sizes of this log (for a witness). */
  proveConsistency(oldSize: number, newSize = this.size): Buffer[] {
    return this.merkle.proveConsistency(oldSize, newSize);
  }

  /** Re-reads the leaves if another writer appended since this log was loaded. */
  async refresh(): Promise<void> {
    await this.serial(async () => {
      if (await this.store.exists(leafKey(this.size))) await this.reload();
    });
  }

  root(size = this.size): Buffer {
    return this.merkle.root(size);
  }

  /** Appends a leaf for the manifest unless one exists; returns the entry and whether it is new. */
  append(fields: Omit<LogEntry, 'index'>): Promise<{ entry: LogEntry; created: boolean }> {
    return this.serial(() =>
      this.appendRecord<LogEntry>((index) => {
        const known = this.byManifest.get(fields.manifestSha256);
        return known ? { known } : { entry: { index, ...fields } };
      }),
    );
  }

  /** Appends a legal-hold record. */
  appendHold(fields: Omit<HoldRecord, 'index' | 'kind'>): Promise<HoldRecord> {
    return this.serial(async () => {
      const { entry } = await this.appendRecord<HoldRecord>((index) => ({
        entry: { index, kind: 'legal-hold', ...fields },
      }));
      return entry;
    });
  }

  /**
   * Writes the next leaf. Another writer (a second worker, the CLI) may have appended since this log
   * was loaded: catch up before choosing the index, and if it wins the race for that index (the
   * store refuses to overwrite), reload and try the next one.
   */
  private async appendRecord<T extends LeafRecord>(
    make: (index: number) => { known: T } | { entry: T },
  ): Promise<{ entry: T; created: boolean }> {
    for (let attempt = 0; ; attempt++) {
      if (await this.store.exists(leafKey(this.size))) await this.reload();
      const made = make(this.size);
      if ('known' in made) return { entry: made.known, created: false };
      const bytes = jsonBytes(made.entry);
      try {
        await this.store.putOnce(leafKey(made.entry.index), bytes, { sha256Hex: sha256Hex(bytes) });
      } catch (err) {
        if (!(err instanceof WriteOnceViolation) || attempt >= 10) throw err;
        await this.reload();
        continue;
      }
      this.add(made.entry, bytes);
      return { entry: made.entry, created: true };
    }
  }

  /** Signs and stores a checkpoint of the current tree, unless the latest checkpoint already covers it. */
  checkpoint(signer: string | SignerKey): Promise<{ size: number; key?: string; created: boolean; rootHex: string }> {
    return this.serial(async () => {
      const sizes = await checkpointSizes(this.store);
      const prev = sizes.at(-1) ?? 0;
      const rootHex = this.root().toString('hex');
      if (this.size === 0 || prev >= this.size) return { size: this.size, created: false, rootHex };
      const key = typeof signer === 'string' ? parseSignerKey(signer) : signer;
      const body = formatCheckpoint({
        origin: this.origin,
        size: this.size,
        rootHash: this.root(),
        extensions: [`prev ${prev}`],
      });
      const note = Buffer.from(signNote(body, key), 'utf8');
      const written = await this.store.putOnce(checkpointKey(this.size), note, { sha256Hex: sha256Hex(note) });
      return { size: this.size, key: checkpointKey(this.size), created: written.created, rootHex };
    });
  }

  private async reload(): Promise<void> {
    this.entries = [];
    this.byManifest.clear();
    this.merkle = new MerkleLog();
    const keys = await this.store.list(LEAVES_PREFIX);
    for (const [i, key] of keys.entries()) {
      if (key !== leafKey(i)) throw new Error(`audit log: expected ${leafKey(i)}, found ${key}`);
      const bytes = await this.store.get(key);
      const entry = JSON.parse(bytes.toString('utf8')) as LeafRecord;
      if (entry.index !== i) throw new Error(`audit log: ${key} records index ${entry.index}`);
      this.add(entry, bytes);
    }
  }

  private add(entry: LeafRecord, bytes: Buffer): void {
    this.entries.push(entry);
    if (!isHoldRecord(entry)) this.byManifest.set(entry.manifestSha256, entry);
    this.merkle.append(bytes);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
