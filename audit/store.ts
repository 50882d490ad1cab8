import { sha256Hex } from '../core/hash';

/**
 * The write-once contract for audit bundles. A key, once written, holds the same bytes forever:
 * `putOnce` never overwrites, and there is deliberately no delete. Re-exporting a bundle with
 * identical bytes is a no-op (`created: false`), so export activities can retry freely; different
 * bytes under an existing key are a `WriteOnceViolation`. Every read is checked against the
 * SHA-256 recorded at write time.
 */
export type AuditStoreKind = 'fs' | 's3';

export interface PutOnceOptions {
  /** Lower-case hex SHA-256 of `bytes`; checked before anything is written. */
  sha256Hex: string;
  contentType?: string;
}

export interface PutOnceResult {
  key: string;
  /** false when the key already held exactly these bytes. */
  created: boolean;
  sha256Hex: string;
  size: number;
  /** S3 object version holding the bytes (absent for the filesystem store). */
  versionId?: string;
  /** ISO-8601 end of the retention period set on the object (S3 only). */
  retainUntil?: string;
}

export interface AuditStoreDescription {
  kind: AuditStoreKind;
  /** Directory or `s3://bucket/prefix` (with endpoint), for logs and the CLI. */
  location: string;
  /** How write-once is enforced, in one sentence. */
  guarantee: string;
  retentionDays?: number;
  legalHold?: boolean;
}

/**
 * One object as the backend holds it, for whole-store verification: every file under the root, or
 * every S3 object version and delete marker under the prefix — not only what `list` shows.
 */
export interface StoredObject {
  /** Where it is: a path relative to the store root (a folder ends in "/"), or the S3 key. */
  name: string;
  /** The audit key whose record this object is; absent for anything that is not a key's record. */
  key?: string;
  /** S3 version id (of a version or a delete marker). */
  versionId?: string;
  /** Why the backend itself finds this object out of place (a later version, a stray temp file, …). */
  anomaly?: string;
}

export interface AuditStore {
  readonly kind: AuditStoreKind;
  putOnce(key: string, bytes: Uint8Array, options: PutOnceOptions): Promise<PutOnceResult>;
  /** The stored bytes, after verifying their SHA-256; throws `AuditObjectNotFound` if absent. */
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** Keys under `prefix` (a key prefix, not necessarily a whole folder), sorted. */
  list(prefix?: string): Promise<string[]>;
  /** Everything the backend holds under the store's root or prefix, its own bookkeeping excepted. */
  inventory(): Promise<StoredObject[]>;
  /**
   * Puts the records of `keys` under legal hold (`on`) or lifts it: S3's legal-hold flag on every
   * version, the immutable flag on the filesystem. While held, no one can delete them; lifting a hold
   * leaves any retention period in force. Returns what was changed.
   */
  setLegalHold(keys: readonly string[], on: boolean): Promise<LegalHoldChange[]>;
  /** Whether every stored version of `key` is under legal hold. */
  isHeld(key: string): Promise<boolean>;
  describe(): AuditStoreDescription;
}

export interface LegalHoldChange {
  key: string;
  versionId?: string;
  held: boolean;
}

/** The backend cannot place or lift a legal hold here (the message says what it needs). */
export class LegalHoldUnsupported extends Error {
  override name = 'LegalHoldUnsupported';
}

/** A key already holds different bytes; the store refused to overwrite them. */
export class WriteOnceViolation extends Error {
  override name = 'WriteOnceViolation';
  constructor(
    readonly key: string,
    readonly existingSha256Hex: string,
    readonly attemptedSha256Hex: string,
  ) {
    super(
      `audit key ${key} is write-once: it already holds sha256 ${existingSha256Hex}, refusing to store ${attemptedSha256Hex}`,
    );
  }
}

export class InvalidAuditKey extends Error {
  override name = 'InvalidAuditKey';
}

export class AuditObjectNotFound extends Error {
  override name = 'AuditObjectNotFound';
  constructor(readonly key: string) {
    super(`audit key ${key} does not exist`);
  }
}

/** Stored bytes no longer match their recorded SHA-256, or a caller's digest did not match its bytes. */
export class AuditIntegrityError extends Error {
  override name = 'AuditIntegrityError';
}

export const MAX_KEY_LENGTH = 1024;
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Accepts relative keys such as `bundles/<workflowId>/<runId>/manifest.json`: `/`-separated
 * segments of `[A-Za-z0-9._-]`, none empty and none starting with a dot (which rules out `.`, `..`
 * and hidden files, and leaves dot-names free for the filesystem store's temporary files).
 */
export function validateKey(key: string): string {
  const fail = (why: string): never => {
    throw new InvalidAuditKey(`invalid audit key ${JSON.stringify(key)}: ${why}`);
  };
  if (typeof key !== 'string' || key.length === 0) fail('must be a non-empty string');
  if (key.length > MAX_KEY_LENGTH) fail(`longer than ${MAX_KEY_LENGTH} characters`);
  if (key.includes('\\')) fail('backslashes are not allowed; use "/"');
  if (key.startsWith('/')) fail('must be relative (no leading "/")');
  for (const segment of key.split('/')) {
    if (segment === '') fail('empty path segment ("//" or trailing "/")');
    if (segment === '.' || segment === '..') fail('"." and ".." segments are not allowed');
    if (segment.startsWith('.')) fail(`segment "${segment}" starts with a dot`);
    if (!SEGMENT.test(segment)) fail(`segment "${segment}" must match [A-Za-z0-9._-] (at most 255 characters)`);
  }
  return key;
}

/** A list prefix is a key prefix: the same charset, and it may end with "/". Empty means everything. */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/** Checks the caller's digest against the bytes before anything is stored. */
export function checkDigest(key: string, bytes: Uint8Array, expected: string): string {
  if (!SHA256_HEX.test(expected))
    throw new AuditIntegrityError(`sha256Hex for ${key} must be 64 lower-case hex characters`);
  const actual = sha256Hex(bytes);
  if (actual !== expected)
    throw new AuditIntegrityError(
      `sha256Hex for ${key} does not match its bytes (given ${expected}, actual ${actual})`,
    );
  return actual;
}
