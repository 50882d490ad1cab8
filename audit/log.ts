import { MerkleLog } from '../core/merkle';
import type { SignerKey } from '../core/signed-note';
import { formatCheckpoint, parseSignerKey, signNote } from '../core/signed-note';
import { jsonBytes } from './bundle';
import type { AuditStore } from './store';
import { sha256Hex } from '../core/hash';

/**
 * The audit log: an append-only RFC 6962 Merkle tree whose leaves commit to bundle manifests, kept in
 * the write-once store next to the bundles.
 *
 *   log/leaves/<index, 12 digits>.json   one leaf record (canonical JSON): index, manifest key and
 *                                        sha256, workflow/run ids, close and export time. The Merkle
 *                                        leaf is exactly these bytes, so every field is covered.
 *   checkpoints/<size>.note              C2SP signed note over a tlog checkpoint
 *                                        (origin, size, root) with one extension line `prev <size>`
 *                                        naming the previous checkpoint, so a deleted one is noticed.
 *
 * A leaf is appended once per manifest; re-exporting a run finds its manifest in the log and appends
 * nothing, and a checkpoint is only written when the tree grew — hence "exporting twice writes nothing".
 * One exporter appends at a time (the export workflow runs its activities in sequence); a second
 * writer racing for the same index loses on the store's write-once check and reloads.
 */
export const LEAVES_PREFIX = 'log/leaves/';
export const CHECKPOINTS_PREFIX = 'checkpoints/';

export interface LogEntry {
  index: number;
  manifestKey: string;
  manifestSha256: string;
  workflowId: string;
  runId: string;
  closedAt?: string;
  exportedAt: string;
}

export function leafKey(index: number): string {
  return `${LEAVES_PREFIX}${String(index).padStart(12, '0')}.json`;
}

export function checkpointKey(size: number): string {
  return `${CHECKPOINTS_PREFIX}${size}.note`;
}

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
  private entries: LogEntry[] = [];
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
    return this.entries.some((entry) => entry.manifestKey === key);
  }

  /** The latest close time among exported runs: the exporter's cursor. */
  latestClosedAt(): string | undefined {
    let latest: string | undefined;
    for (const entry of this.entries)
      if (entry.closedAt && (!latest || entry.closedAt > latest)) latest = entry.closedAt;
    return latest;
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
    return this.serial(async () => {
      // Another writer may have appended since we loaded: catch up before choosing the index.
      if (await this.store.exists(leafKey(this.size))) await this.reload();
      const known = this.byManifest.get(fields.manifestSha256);
      if (known) return { entry: known, created: false };
      const entry: LogEntry = { index: this.size, ...fields };
      const bytes = jsonBytes(entry);
      await this.store.putOnce(leafKey(entry.index), bytes, { sha256Hex: sha256Hex(bytes) });
      this.add(entry, bytes);
      return { entry, created: true };
    });
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
      const entry = JSON.parse(bytes.toString('utf8')) as LogEntry;
      if (entry.index !== i) throw new Error(`audit log: ${key} records index ${entry.index}`);
      this.add(entry, bytes);
    }
  }

  private add(entry: LogEntry, bytes: Buffer): void {
    this.entries.push(entry);
    this.byManifest.set(entry.manifestSha256, entry);
    this.merkle.append(bytes);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
