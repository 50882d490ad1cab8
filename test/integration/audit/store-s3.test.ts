import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import {} from '../../../audit/store';
import { sha256Hex } from '../../../core/hash';
import { AuditStoreMisconfigured, S3AuditStore } from '../../../audit/store-s3';
import type { S3AuditStoreConfig } from '../../../audit/store-s3';
import { startS3Server } from '../../../infra/s3/s3-server';
import type { S3Server } from '../../../infra/s3/s3-server';
import { auditStoreContract } from '../../unit/audit/store-contract';

/**
 * The S3 store against a real versitygw with Object Lock: the shared write-once contract (with
 * If-None-Match and with HEAD-then-PUT), then what only the server can show — that it refuses to
 * delete or weaken a COMPLIANCE-locked version, whoever asks.
 */
const RETENTION_DAYS = 1;
let dataDir: string;
let server: S3Server;
const stores: Record<string, S3AuditStore> = {};

function config(bucket: string, extra: Partial<S3AuditStoreConfig> = {}): S3AuditStoreConfig {
  return {
    endpoint: server.endpoint,
    region: server.region,
    bucket,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
    retentionDays: RETENTION_DAYS,
    ...extra,
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mandate-s3-'));
  server = await startS3Server({ dataDir });
  stores.ifNoneMatch = new S3AuditStore(config('audit-contract'));
  stores.headThenPut = new S3AuditStore(config('audit-contract-htp', { conditionalWrites: 'head-then-put' }));
  for (const store of Object.values(stores)) await store.ensureBucket();
}, 360_000); // a first run builds versitygw (2–4 minutes) unless CI provisioned it

afterAll(async () => {
  for (const store of Object.values(stores)) store.client.destroy();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

auditStoreContract('S3 (versitygw, If-None-Match)', () => stores.ifNoneMatch!);
auditStoreContract('S3 (versitygw, HEAD-then-PUT)', () => stores.headThenPut!, { atomicCreate: false });

describe('S3AuditStore on a server with Object Lock', () => {
  const bytes = Buffer.from('{"bundle":"wf-1/run-1"}');
  const digest = sha256Hex(bytes);
  let store: S3AuditStore;

  beforeAll(() => {
    store = new S3AuditStore(config('audit-locked'));
  });

  it('creates the bucket with Object Lock and a COMPLIANCE default, and accepts it again', async () => {
    expect(await store.ensureBucket()).toEqual({ created: true });
    const lock = await store.client.send(new GetObjectLockConfigurationCommand({ Bucket: 'audit-locked' }));
    expect(lock.ObjectLockConfiguration).toMatchObject({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: RETENTION_DAYS } },
    });
    expect(await store.ensureBucket()).toEqual({ created: false });
  });

  it('refuses an existing bucket without Object Lock', async () => {
    const plain = new S3AuditStore(config('audit-plain'));
    await plain.client.send(new CreateBucketCommand({ Bucket: 'audit-plain' }));
    await expect(plain.ensureBucket()).rejects.toBeInstanceOf(AuditStoreMisconfigured);
    await expect(plain.ensureBucket()).rejects.toThrow(/exists without Object Lock/);
    plain.client.destroy();
  });

  it('stores with a SHA-256 checksum and COMPLIANCE retention, and reads it back', async () => {
    const before = Date.now();
    const result = await store.putOnce('bundles/wf-1/run-1/manifest.json', bytes, { sha256Hex: digest });
    expect(result).toMatchObject({ created: true, sha256Hex: digest, versionId: expect.any(String) });
    const head = await store.client.send(
      new HeadObjectCommand({
        Bucket: 'audit-locked',
        Key: 'bundles/wf-1/run-1/manifest.json',
        ChecksumMode: 'ENABLED',
      }),
    );
    expect(head.ChecksumSHA256).toBe(Buffer.from(digest, 'hex').toString('base64'));
    expect(head.Metadata?.sha256).toBe(digest);
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    const until = head.ObjectLockRetainUntilDate!.getTime();
    expect(until).toBeGreaterThan(before + RETENTION_DAYS * 86_400_000 - 60_000);
    expect((await store.get('bundles/wf-1/run-1/manifest.json')).equals(bytes)).toBe(true);

    const again = await store.putOnce('bundles/wf-1/run-1/manifest.json', bytes, { sha256Hex: digest });
    expect(again).toMatchObject({ created: false, versionId: result.versionId });
  });

  it('the server refuses to delete the locked version, even with the governance bypass', async () => {
    const key = 'bundles/wf-2/run-1/manifest.json';
    const { versionId } = await store.putOnce(key, bytes, { sha256Hex: digest });
    for (const bypass of [false, true]) {
      await expect(
        store.client.send(
          new DeleteObjectCommand({
            Bucket: 'audit-locked',
            Key: key,
            VersionId: versionId,
            BypassGovernanceRetention: bypass,
          }),
        ),
      ).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    }
    await expect(
      store.client.send(
        new PutObjectRetentionCommand({
          Bucket: 'audit-locked',
          Key: key,
          VersionId: versionId,
          BypassGovernanceRetention: true,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 3_600_000) },
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    expect((await store.get(key)).equals(bytes)).toBe(true);
  });

  it('an overwrite or delete behind the store only adds versions; the original stays readable and retained', async () => {
    const key = 'bundles/wf-3/run-1/manifest.json';
    const { versionId } = await store.putOnce(key, bytes, { sha256Hex: digest });
    // A raw PUT without If-None-Match, as anyone holding write credentials could send.
    await store.client.send(new PutObjectCommand({ Bucket: 'audit-locked', Key: key, Body: 'forged' }));
    await store.client.send(new DeleteObjectCommand({ Bucket: 'audit-locked', Key: key })); // delete marker

    const versions = await store.client.send(new ListObjectVersionsCommand({ Bucket: 'audit-locked', Prefix: key }));
    expect(versions.Versions?.map((v) => v.VersionId)).toContain(versionId);
    expect(versions.Versions).toHaveLength(2);
    expect(versions.DeleteMarkers).toHaveLength(1);

    const retention = await store.client.send(
      new GetObjectRetentionCommand({ Bucket: 'audit-locked', Key: key, VersionId: versionId }),
    );
    expect(retention.Retention?.Mode).toBe('COMPLIANCE');
    const original = await store.client.send(
      new GetObjectCommand({ Bucket: 'audit-locked', Key: key, VersionId: versionId }),
    );
    expect(Buffer.from(await original.Body!.transformToByteArray()).equals(bytes)).toBe(true);

    // The store still answers with the first version, and still refuses other bytes.
    expect((await store.get(key)).equals(bytes)).toBe(true);
    expect(await store.exists(key)).toBe(true);
    expect((await store.putOnce(key, bytes, { sha256Hex: digest })).created).toBe(false);
    await expect(
      store.putOnce(key, Buffer.from('forged'), { sha256Hex: sha256Hex(Buffer.from('forged')) }),
    ).rejects.toThrow(/write-once/);
  });

  it('sets a legal hold when configured', async () => {
    const held = new S3AuditStore(config('audit-locked', { legalHold: true }));
    const { versionId } = await held.putOnce('bundles/wf-4/run-1/manifest.json', bytes, { sha256Hex: digest });
    const hold = await held.client.send(
      new GetObjectLegalHoldCommand({
        Bucket: 'audit-locked',
        Key: 'bundles/wf-4/run-1/manifest.json',
        VersionId: versionId,
      }),
    );
    expect(hold.LegalHold?.Status).toBe('ON');
    expect(held.describe()).toMatchObject({ kind: 's3', legalHold: true, retentionDays: RETENTION_DAYS });
    held.client.destroy();
  });
});
