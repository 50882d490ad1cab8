import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  GetObjectLegalHoldCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { BucketLocationConstraint, DeleteMarkerEntry, ObjectVersion } from '@aws-sdk/client-s3';
import { z } from 'zod';
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
import { sha256Hex } from '../core/hash';

/**
 * S3 audit store on a bucket with Object Lock. Every object is written with COMPLIANCE retention
 * (and optionally a legal hold), so the *server* refuses to delete or shorten it until the
 * retention date — no credential, root included, can undo that.
 *
 * S3 cannot refuse a new version on top of a key (versioning is mandatory with Object Lock), so
 * write-once here means: the first version of a key is the record. `putOnce` writes with
 * `If-None-Match: *` (or HEAD-then-PUT on servers without conditional writes), and `get`, `exists`
 * and conflict checks always read the key's *oldest* version — a later PUT or delete marker,
 * whoever makes it, cannot change what this store returns, and the original stays locked.
 *
 * With a `prefix`, every key lives under it (`<prefix><key>`) and nothing outside it is looked at.
 */
export const S3AuditStoreConfigSchema = z.object({
  endpoint: z.url().optional(),
  region: z.string().min(1),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name'),
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  forcePathStyle: z.boolean().default(false),
  /** Key prefix of this store in the bucket: empty, or segments ending in "/". */
  prefix: z
    .string()
    .regex(/^([A-Za-z0-9_-][A-Za-z0-9._-]*\/)*$/, 'must be empty or path segments ending in "/"')
    .default(''),
  /**
   * COMPLIANCE retention per object, counted from the write (fractions of a day only in tests). 0: no
   * time-based retention, objects are kept only by legal holds (set `legalHold` to hold every one).
   */
  retentionDays: z.number().min(0).max(36_500),
  legalHold: z.boolean().default(false),
  /** `auto` uses If-None-Match and falls back to HEAD-then-PUT if the server answers 501. */
  conditionalWrites: z.enum(['auto', 'if-none-match', 'head-then-put']).default('auto'),
});
export type S3AuditStoreConfig = z.input<typeof S3AuditStoreConfigSchema>;

/** The bucket exists but cannot hold audit records (no Object Lock, or versioning off). */
export class AuditStoreMisconfigured extends Error {
  override name = 'AuditStoreMisconfigured';
}

const DAY_MS = 86_400_000;

export class S3AuditStore implements AuditStore {
  readonly kind = 's3' as const;
  readonly config: z.output<typeof S3AuditStoreConfigSchema>;
  readonly client: S3Client;
  private useIfNoneMatch: boolean;

  constructor(config: S3AuditStoreConfig, client?: S3Client) {
    const parsed = S3AuditStoreConfigSchema.safeParse(config);
    if (!parsed.success) throw new AuditStoreMisconfigured(`S3 audit store config: ${z.prettifyError(parsed.error)}`);
    this.config = parsed.data;
    this.useIfNoneMatch = this.config.conditionalWrites !== 'head-then-put';
    this.client =
      client ??
      new S3Client({
        endpoint: this.config.endpoint,
        region: this.config.region,
        forcePathStyle: this.config.forcePathStyle,
        credentials: { accessKeyId: this.config.accessKeyId, secretAccessKey: this.config.secretAccessKey },
      });
  }

  /**
   * Creates the bucket with Object Lock (default retention COMPLIANCE for `retentionDays`), or checks
   * that an existing one has Object Lock and versioning enabled; refuses a bucket without them.
   */
  async ensureBucket(): Promise<{ created: boolean }> {
    const Bucket = this.config.bucket;
    let created = false;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket }));
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      try {
        await this.client.send(
          new CreateBucketCommand({
            Bucket,
            ObjectLockEnabledForBucket: true,
            ...(this.config.region === 'us-east-1'
              ? {}
              : { CreateBucketConfiguration: { LocationConstraint: this.config.region as BucketLocationConstraint } }),
          }),
        );
        // The default rule also locks versions written by anything other than this store.
        await this.client.send(
          new PutObjectLockConfigurationCommand({
            Bucket,
            ObjectLockConfiguration: {
              ObjectLockEnabled: 'Enabled',
              ...(this.config.retentionDays > 0
                ? { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: Math.ceil(this.config.retentionDays) } } }
                : {}),
            },
          }),
        );
        created = true;
      } catch (createErr) {
        if (nameOf(createErr) !== 'BucketAlreadyOwnedByYou') throw createErr;
      }
    }

    let lockEnabled = false;
    try {
      const lock = await this.client.send(new GetObjectLockConfigurationCommand({ Bucket }));
      lockEnabled = lock.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
    } catch (err) {
      if (nameOf(err) !== 'ObjectLockConfigurationNotFoundError' && statusOf(err) !== 404) throw err;
    }
    if (!lockEnabled)
      throw new AuditStoreMisconfigured(
        `bucket ${Bucket} exists without Object Lock; audit records need a bucket created with Object Lock enabled (use a new bucket name)`,
      );
    const versioning = await this.client.send(new GetBucketVersioningCommand({ Bucket }));
    if (versioning.Status !== 'Enabled')
      throw new AuditStoreMisconfigured(`bucket ${Bucket} has Object Lock but versioning is ${versioning.Status}`);
    return { created };
  }

  async putOnce(key: string, bytes: Uint8Array, options: PutOnceOptions): Promise<PutOnceResult> {
    validateKey(key);
    const digest = checkDigest(key, bytes, options.sha256Hex);
    const result = { key, sha256Hex: digest, size: bytes.byteLength };

    if (!this.useIfNoneMatch) {
      const first = await this.firstVersion(key);
      if (first) return { ...result, ...(await this.compareExisting(key, first, digest)) };
    }
    const retainUntil =
      this.config.retentionDays > 0 ? new Date(Date.now() + this.config.retentionDays * DAY_MS) : undefined;
    const written = await this.write(key, bytes, digest, retainUntil, options.contentType);

    // Whatever the PUT said, the key's oldest version is the record: ours only if it is that one.
    const first = await this.firstVersion(key);
    if (!first) throw new AuditIntegrityError(`audit key ${key} was written but is not listed`);
    if (written && first.VersionId === written) {
      await this.readVersion(key, written, digest); // read-back verification
      return {
        ...result,
        created: true,
        versionId: written,
        ...(retainUntil ? { retainUntil: retainUntil.toISOString() } : {}),
      };
    }
    return { ...result, ...(await this.compareExisting(key, first, digest)) };
  }

  async get(key: string): Promise<Buffer> {
    validateKey(key);
    const first = await this.firstVersion(key);
    if (!first?.VersionId) throw new AuditObjectNotFound(key);
    return (await this.readVersion(key, first.VersionId)).bytes;
  }

  async exists(key: string): Promise<boolean> {
    validateKey(key);
    return (await this.firstVersion(key)) !== undefined;
  }

  async list(prefix = ''): Promise<string[]> {
    validatePrefix(prefix);
    const keys = new Set<string>();
    for await (const version of this.versions(prefix)) if (version.Key) keys.add(version.Key);
    return [...keys].sort();
  }

  /**
   * Every object version and delete marker under the prefix. A key's oldest version is its record;
   * a later version with other bytes, or a delete marker, is what someone browsing the bucket would
   * see instead, so each is reported (a later version with identical bytes — two racing
   * HEAD-then-PUT writers — is not).
   */
  async inventory(): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const byKey = new Map<string, ObjectVersion[]>();
    const markers: DeleteMarkerEntry[] = [];
    for await (const page of this.pages('')) {
      for (const version of page.Versions ?? []) {
        const list = byKey.get(version.Key!) ?? [];
        list.push(version);
        byKey.set(version.Key!, list);
      }
      markers.push(...(page.DeleteMarkers ?? []));
    }
    for (const [name, versions] of byKey) {
      // S3 lists a key's versions newest first (as `firstVersion` relies on).
      const [first, ...later] = [...versions].reverse();
      let key: string | undefined = name;
      try {
        validateKey(name);
      } catch {
        key = undefined;
        out.push({ name, versionId: first.VersionId, anomaly: 'an object whose name is not a valid audit key' });
      }
      if (key) out.push({ name, key, versionId: first.VersionId });
      if (!later.length || !key) continue;
      const record = sha256Hex((await this.readVersion(name, first.VersionId!, undefined, false)).bytes);
      for (const version of later) {
        const bytes = (await this.readVersion(name, version.VersionId!, undefined, false)).bytes;
        if (sha256Hex(bytes) !== record)
          out.push({
            name,
            versionId: version.VersionId,
            anomaly: `a later version with other bytes on top of the record (version ${first.VersionId})`,
          });
      }
    }
    for (const marker of markers)
      out.push({
        name: marker.Key!,
        versionId: marker.VersionId,
        anomaly: 'a delete marker that hides the record from ordinary listings',
      });
    return out.sort((a, b) => a.name.localeCompare(b.name) || (a.versionId ?? '').localeCompare(b.versionId ?? ''));
  }

  async setLegalHold(keys: readonly string[], on: boolean): Promise<LegalHoldChange[]> {
    const changes: LegalHoldChange[] = [];
    for (const key of keys) {
      validateKey(key);
      const versions: ObjectVersion[] = [];
      for await (const version of this.versions(key)) if (version.Key === key) versions.push(version);
      if (!versions.length) throw new AuditObjectNotFound(key);
      for (const version of versions) {
        await this.client.send(
          new PutObjectLegalHoldCommand({
            Bucket: this.config.bucket,
            Key: this.full(key),
            VersionId: version.VersionId,
            LegalHold: { Status: on ? 'ON' : 'OFF' },
          }),
        );
        changes.push({ key, versionId: version.VersionId, held: on });
      }
    }
    return changes;
  }

  async isHeld(key: string): Promise<boolean> {
    validateKey(key);
    const versions: ObjectVersion[] = [];
    for await (const version of this.versions(key)) if (version.Key === key) versions.push(version);
    if (!versions.length) throw new AuditObjectNotFound(key);
    for (const version of versions) {
      const out = await this.client
        .send(
          new GetObjectLegalHoldCommand({
            Bucket: this.config.bucket,
            Key: this.full(key),
            VersionId: version.VersionId,
          }),
        )
        .catch((err: unknown) => {
          if (nameOf(err) === 'NoSuchObjectLockConfiguration' || statusOf(err) === 404) return undefined;
          throw err;
        });
      if (out?.LegalHold?.Status !== 'ON') return false;
    }
    return true;
  }

  describe(): AuditStoreDescription {
    const { endpoint, bucket, prefix, retentionDays, legalHold } = this.config;
    return {
      kind: 's3',
      location: `s3://${bucket}/${prefix}${endpoint ? ` (${endpoint})` : ''}`,
      guarantee:
        (retentionDays > 0
          ? 'Object Lock COMPLIANCE retention on every version'
          : 'no time-based retention: versions are kept by legal holds') +
        (legalHold ? ', a legal hold on every version' : '') +
        '; the oldest version of a key is the record',
      retentionDays,
      legalHold,
    };
  }

  /** PUTs one version; returns its id, or undefined when the key already existed (412/409). */
  private async write(
    key: string,
    bytes: Uint8Array,
    digest: string,
    retainUntil: Date | undefined,
    contentType = 'application/octet-stream',
  ): Promise<string | undefined> {
    const input = {
      Bucket: this.config.bucket,
      Key: this.full(key),
      Body: bytes,
      ContentType: contentType,
      ChecksumSHA256: Buffer.from(digest, 'hex').toString('base64'),
      Metadata: { sha256: digest },
      ...(retainUntil ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: retainUntil } : {}),
      ...(this.config.legalHold ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}),
    };
    try {
      const out = await this.client.send(
        new PutObjectCommand(this.useIfNoneMatch ? { ...input, IfNoneMatch: '*' } : input),
      );
      return out.VersionId;
    } catch (err) {
      const status = statusOf(err);
      // 412: the key exists. 409: a concurrent conditional write to it is in flight.
      if (this.useIfNoneMatch && (status === 412 || status === 409)) return undefined;
      if (this.useIfNoneMatch && status === 501 && this.config.conditionalWrites === 'auto') {
        this.useIfNoneMatch = false;
        const first = await this.firstVersion(key);
        if (first) return undefined;
        return this.write(key, bytes, digest, retainUntil, contentType);
      }
      throw err;
    }
  }

  private async compareExisting(
    key: string,
    first: ObjectVersion,
    digest: string,
  ): Promise<Pick<PutOnceResult, 'created' | 'versionId' | 'retainUntil'>> {
    const existing = await this.readVersion(key, first.VersionId!);
    const existingDigest = sha256Hex(existing.bytes);
    if (existingDigest !== digest) throw new WriteOnceViolation(key, existingDigest, digest);
    return { created: false, versionId: first.VersionId, retainUntil: existing.retainUntil };
  }

  /** Reads one version and (unless `check` is false) checks its bytes against the SHA-256 recorded at write time. */
  private async readVersion(
    key: string,
    versionId: string,
    expected?: string,
    check = true,
  ): Promise<{ bytes: Buffer; retainUntil?: string }> {
    const out = await this.client.send(
      new GetObjectCommand({
        Bucket: this.config.bucket,
        Key: this.full(key),
        VersionId: versionId,
        ChecksumMode: 'ENABLED',
      }),
    );
    const bytes = Buffer.from(await out.Body!.transformToByteArray());
    if (!check) return { bytes };
    const actual = sha256Hex(bytes);
    const recorded = [
      out.Metadata?.sha256,
      out.ChecksumSHA256 && out.ChecksumType !== 'COMPOSITE'
        ? Buffer.from(out.ChecksumSHA256, 'base64').toString('hex')
        : undefined,
      expected,
    ].filter((value): value is string => value !== undefined);
    if (recorded.length === 0)
      throw new AuditIntegrityError(`audit key ${key} (version ${versionId}) has no recorded sha256`);
    for (const value of recorded)
      if (value !== actual)
        throw new AuditIntegrityError(
          `audit key ${key} (version ${versionId}): recorded sha256 ${value}, read ${actual}`,
        );
    return { bytes, retainUntil: out.ObjectLockRetainUntilDate?.toISOString() };
  }

  /** The key's oldest version (S3 lists a key's versions newest first), ignoring delete markers. */
  private async firstVersion(key: string): Promise<ObjectVersion | undefined> {
    let oldest: ObjectVersion | undefined;
    for await (const version of this.versions(key)) if (version.Key === key) oldest = version;
    return oldest;
  }

  /** Versions under a key prefix, with keys relative to the store's prefix. */
  private async *versions(prefix: string): AsyncGenerator<ObjectVersion> {
    for await (const page of this.pages(prefix)) yield* page.Versions ?? [];
  }

  private async *pages(
    prefix: string,
  ): AsyncGenerator<{ Versions?: ObjectVersion[]; DeleteMarkers?: DeleteMarkerEntry[] }> {
    const base = this.config.prefix;
    const strip = <T extends { Key?: string }>(items: T[] | undefined) =>
      items?.filter((v) => v.Key?.startsWith(base)).map((v) => ({ ...v, Key: v.Key!.slice(base.length) }));
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListObjectVersionsCommand({
          Bucket: this.config.bucket,
          Prefix: `${base}${prefix}`,
          KeyMarker,
          VersionIdMarker,
        }),
      );
      yield { Versions: strip(page.Versions), DeleteMarkers: strip(page.DeleteMarkers) };
      if (!page.IsTruncated) return;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
  }

  private full(key: string): string {
    return `${this.config.prefix}${key}`;
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string | undefined {
  return (err as { name?: string } | undefined)?.name;
}
