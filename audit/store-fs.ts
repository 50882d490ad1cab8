import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { chmod, link, mkdir, open, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import type {
  AuditStore,
  AuditStoreDescription,
  LegalHoldChange,
  PutOnceOptions,
  PutOnceResult,
  StoredObject,
} from './store';
import {
  AuditIntegrityError,
  AuditObjectNotFound,
  WriteOnceViolation,
  checkDigest,
  validateKey,
  validatePrefix,
} from './store';
import { isImmutable, setImmutable } from './immutable';
import { sha256Hex } from '../core/hash';

/**
 * Filesystem write-once audit store (the default backend).
 *
 * On-disk layout under `root` (keys map verbatim to paths, so bundles can be browsed with ls/cat):
 *
 *   <root>/<key>                        the bytes, mode 0444, e.g. bundles/<wf>/<run>/manifest.json
 *   <root>/<dir>/.<name>.sha256         lower-case hex SHA-256 of <key> + "\n", mode 0444
 *   <root>/<dir>/.tmp-<name>-<random>   a write in progress (left behind only by a crash)
 *
 * Keys never start a segment with a dot (see `validateKey`), so dot-names cannot collide with keys.
 * A write goes to a temp file in the key's own directory, is fsynced, then hard-linked into place:
 * `link()` fails with EEXIST instead of replacing, so the kernel — not a check-then-write race —
 * guarantees a key is never overwritten. The data link is the commit point; the digest file is
 * linked after it the same way, and a `putOnce` retry with the same bytes completes a write that
 * crashed in between. Directories are fsynced so the new names survive a power cut.
 *
 * Read-only modes stop accidents, not root: tampering is caught by the SHA-256 check on every read
 * (and, above this layer, by the Merkle tree over bundles). What stops deletion is the kernel's
 * immutable flag (`chattr +i`: not even root can unlink such a file without clearing it first, which
 * needs CAP_LINUX_IMMUTABLE): set on every object written while `retentionDays` is configured (the
 * filesystem's counterpart of S3 COMPLIANCE retention), and by a legal hold.
 */
export interface FsAuditStoreOptions {
  root: string;
  /** Keep every object immutable for at least this many days (needs the immutable flag; see above). */
  retentionDays?: number;
}

const READ_ONLY = 0o444;

export class FsAuditStore implements AuditStore {
  readonly kind = 'fs' as const;
  readonly root: string;
  readonly retentionDays?: number;

  constructor(options: FsAuditStoreOptions) {
    this.root = resolve(options.root);
    this.retentionDays = options.retentionDays;
  }

  async putOnce(key: string, bytes: Uint8Array, options: PutOnceOptions): Promise<PutOnceResult> {
    validateKey(key);
    const digest = checkDigest(key, bytes, options.sha256Hex);
    const path = this.pathOf(key);
    const dir = dirname(path);
    const created = await mkdir(dir, { recursive: true });
    if (created) await this.syncParents(created);

    const linked = await writeExclusive(path, bytes);
    if (!linked) {
      // The key exists: identical bytes make this an idempotent retry, anything else is refused.
      const existing = await readFile(path);
      const existingDigest = sha256Hex(existing);
      const recorded = await readDigest(digestPathOf(path));
      if (recorded !== undefined && recorded !== existingDigest)
        throw new AuditIntegrityError(
          `audit key ${key} was modified on disk (recorded ${recorded}, now ${existingDigest})`,
        );
      if (existingDigest !== digest) throw new WriteOnceViolation(key, existingDigest, digest);
    }
    await writeExclusive(digestPathOf(path), Buffer.from(`${digest}\n`));
    await fsyncDir(dir);
    if (this.retentionDays && linked) await setImmutable([path, digestPathOf(path)], true);

    // Read back what is now on disk, so a short write or a racing writer cannot go unnoticed.
    await this.get(key);
    return { key, created: linked, sha256Hex: digest, size: bytes.byteLength };
  }

  async get(key: string): Promise<Buffer> {
    validateKey(key);
    const path = this.pathOf(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) throw new AuditObjectNotFound(key);
      throw err;
    }
    const recorded = await readDigest(digestPathOf(path));
    if (recorded === undefined)
      throw new AuditIntegrityError(
        `audit key ${key} has no recorded sha256 (its write was interrupted; putOnce the same bytes again to complete it)`,
      );
    const actual = sha256Hex(bytes);
    if (actual !== recorded)
      throw new AuditIntegrityError(`audit key ${key} was modified on disk (recorded ${recorded}, now ${actual})`);
    return bytes;
  }

  async exists(key: string): Promise<boolean> {
    validateKey(key);
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (err) {
      if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) return false;
      throw err;
    }
  }

  async list(prefix = ''): Promise<string[]> {
    validatePrefix(prefix);
    // Walk only the deepest directory the prefix fully names, then filter on the rest.
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    await this.walk(base, keys);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  /**
   * Every entry under the root. The store's own digest files (`.<name>.sha256` beside their object)
   * are bookkeeping; anything else that is not a key's file — a stray temp or hidden file, a digest
   * without its object, an empty folder, a link — is reported with why it is out of place.
   */
  async inventory(): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const visit = async (rel: string): Promise<void> => {
      const entries = await readdir(join(this.root, ...rel.split('/').filter(Boolean)), { withFileTypes: true });
      if (entries.length === 0 && rel) out.push({ name: `${rel}/`, anomaly: 'an empty folder' });
      const files = new Set(entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name));
      for (const entry of entries) {
        const name = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await visit(name);
        else if (!entry.isFile()) out.push({ name, anomaly: 'not a regular file (a link or special file)' });
        else if (entry.name.startsWith('.tmp-'))
          out.push({ name, anomaly: 'a temporary file left by an interrupted write' });
        else if (entry.name.startsWith('.')) {
          const of = /^\.(.+)\.sha256$/.exec(entry.name)?.[1];
          if (!of) out.push({ name, anomaly: 'a hidden file the store never writes' });
          else if (!files.has(of)) out.push({ name, anomaly: `a digest file without its object ${of}` });
        } else {
          let valid = true;
          try {
            validateKey(name);
          } catch {
            valid = false;
          }
          out.push(valid ? { name, key: name } : { name, anomaly: 'a file name that is not a valid audit key' });
        }
      }
    };
    try {
      await visit('');
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async setLegalHold(keys: readonly string[], on: boolean): Promise<LegalHoldChange[]> {
    const paths: string[] = [];
    const retained: string[] = [];
    for (const key of keys) {
      const path = this.pathOf(validateKey(key));
      if (!(await this.exists(key))) throw new AuditObjectNotFound(key);
      // Lifting a hold leaves an object immutable while its retention period lasts.
      if (!on && (await this.retainedUntil(path)) > Date.now()) retained.push(key);
      else paths.push(path, digestPathOf(path));
    }
    if (paths.length) await setImmutable(paths, on);
    return keys.map((key) => ({ key, held: on }));
  }

  async isHeld(key: string): Promise<boolean> {
    const path = this.pathOf(validateKey(key));
    if (!(await this.exists(key))) throw new AuditObjectNotFound(key);
    return isImmutable(path);
  }

  describe(): AuditStoreDescription {
    return {
      kind: 'fs',
      location: this.root,
      guarantee:
        'keys are created with link() (never replaced), files are 0444, every read checks SHA-256' +
        (this.retentionDays ? '; every object is immutable (chattr +i) for the retention period' : ''),
      ...(this.retentionDays ? { retentionDays: this.retentionDays } : {}),
    };
  }

  /** Fails, saying what is needed, unless this process can set the immutable flag under the root. */
  async checkImmutableFlag(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const probe = join(this.root, `.tmp-immutable-probe-${randomBytes(6).toString('hex')}`);
    await (await open(probe, 'wx', READ_ONLY)).close();
    try {
      await setImmutable([probe], true);
      await setImmutable([probe], false);
    } finally {
      await unlink(probe).catch(() => undefined);
    }
  }

  /** End of an object's retention (its write time + retentionDays), or 0 without retention. */
  private async retainedUntil(path: string): Promise<number> {
    if (!this.retentionDays) return 0;
    return (await stat(path)).mtimeMs + this.retentionDays * 86_400_000;
  }

  private pathOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  private async walk(relDir: string, out: string[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(join(this.root, ...relDir.split('/').filter(Boolean)), { withFileTypes: true });
    } catch (err) {
      if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // digests and temp files
      const rel = relDir ? posix.join(relDir, entry.name) : entry.name;
      if (entry.isDirectory()) await this.walk(rel, out);
      else if (entry.isFile()) out.push(rel);
    }
  }

  /** After `mkdir -p` created `firstCreated`, fsync every directory from it up to the root. */
  private async syncParents(firstCreated: string): Promise<void> {
    for (let dir = dirname(firstCreated); dir.startsWith(this.root); dir = dirname(dir)) {
      await fsyncDir(dir);
      if (dir === this.root) break;
    }
  }
}

/**
 * Writes `bytes` to a temp file beside `path`, fsyncs it and links it to `path`. Returns false, and
 * leaves `path` untouched, when `path` already exists.
 */
async function writeExclusive(path: string, bytes: Uint8Array): Promise<boolean> {
  const temp = join(dirname(path), `.tmp-${posix.basename(path)}-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', READ_ONLY);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(temp, READ_ONLY); // the creation mode is subject to umask; make it exact
    await link(temp, path);
    return true;
  } catch (err) {
    if (isCode(err, 'EEXIST')) return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

function digestPathOf(path: string): string {
  return join(dirname(path), `.${posix.basename(path)}.sha256`);
}

async function readDigest(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if (isCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}
