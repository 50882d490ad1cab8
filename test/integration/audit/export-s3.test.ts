import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectLegalHoldCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { AuditExporter } from '../../../audit/exporter';
import { setLegalHold } from '../../../audit/hold';
import { leafKey } from '../../../audit/log';
import { openAuditStore, resolveAuditKeys } from '../../../audit/setup';
import { S3AuditStore } from '../../../audit/store-s3';
import { verifyAuditStore } from '../../../audit/verify';
import { generateKeyPair } from '../../../core/signed-note';
import { startS3Server } from '../../../infra/s3/s3-server';
import type { S3Server } from '../../../infra/s3/s3-server';
import { loadConfig } from '../../../config';
import { approvedHistory } from '../../support/fixtures';

/**
 * Export and verify on the S3 store (versitygw with Object Lock), configured the way a worker is:
 * MANDATE_AUDIT_STORE=s3 settings under a key prefix, and a local checkpoint key pair generated under
 * the data dir. Whole-store verification lists every object version and delete marker under the
 * prefix; a legal hold keeps a version from deletion after its retention ends, until released.
 */
let dataDir: string;
let server: S3Server;
const stores: S3AuditStore[] = [];

/** The fixture as run `n` of its mission: a distinct bundle, the same (signed) votes. */
const historyOf = (n: number) => approvedHistory(1000 + n);
const missionId = (historyOf(1).events[0].workflowExecutionStartedEventAttributes as { workflowId: string }).workflowId;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mandate-audit-s3-'));
  server = await startS3Server({ dataDir: join(dataDir, 's3') });
}, 360_000);

afterAll(async () => {
  for (const store of stores) store.client.destroy();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('an S3 store under a prefix', () => {
  let store: S3AuditStore;
  let keys: ReturnType<typeof resolveAuditKeys>;
  let origin: string;
  const Bucket = 'audit-export';
  const verify = () => verifyAuditStore(store, { verifierKeys: keys.verifierKeys, origin });
  const put = (Key: string, Body: string) => store.client.send(new PutObjectCommand({ Bucket, Key, Body }));

  test('bundles exported to S3 verify; re-export writes nothing; objects outside the prefix are not its business', async () => {
    const config = loadConfig({
      MANDATE_DATA_DIR: dataDir,
      MANDATE_AUDIT_STORE: 's3',
      MANDATE_AUDIT_S3_ENDPOINT: server.endpoint,
      MANDATE_AUDIT_S3_REGION: server.region,
      MANDATE_AUDIT_S3_BUCKET: Bucket,
      MANDATE_AUDIT_S3_ACCESS_KEY_ID: server.accessKeyId,
      MANDATE_AUDIT_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      MANDATE_AUDIT_S3_FORCE_PATH_STYLE: 'true',
      MANDATE_AUDIT_S3_RETENTION_DAYS: '1',
      MANDATE_AUDIT_S3_PREFIX: 'audit/prod/',
    }).audit;
    keys = resolveAuditKeys(config);
    origin = config.origin;
    expect(keys.local).toEqual({ dir: join(dataDir, 'audit-keys'), created: true });
    expect(resolveAuditKeys(config).signerKey).toBe(keys.signerKey); // generated once, then reused
    store = (await openAuditStore(config)) as S3AuditStore;
    stores.push(store);
    expect(store.describe().location).toMatch(/^s3:\/\/audit-export\/audit\/prod\//);

    const exporter = new AuditExporter({ store, signerKey: keys.signerKey!, origin });
    for (const n of [1, 2]) expect((await exporter.exportHistory(historyOf(n))).written).toBe(4);
    expect(await exporter.checkpoint()).toMatchObject({ size: 2, created: true });
    await put('elsewhere/notes.txt', 'another application shares the bucket');
    await expect(verify()).resolves.toMatchObject({
      ok: true,
      counts: { bundles: 2, leaves: 2, checkpoints: 1, objects: 9 },
    });
    const listed = await store.client.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'audit/prod/bundles/' }));
    expect(listed.Versions).toHaveLength(6);

    for (const n of [1, 2]) expect((await exporter.exportHistory(historyOf(n))).written).toBe(0);
    expect((await exporter.checkpoint()).created).toBe(false);
  });

  test('every planted object, later version and delete marker under the prefix fails verify, named', async () => {
    const bundle = (await store.list('bundles/')).find((k) => k.endsWith('/manifest.json'))!.slice(0, -13);
    const planted = [
      `${bundle}extra.json`,
      `${bundle}attachments/evidence.json`,
      'bundles/customer-refund-s3-9/00000000-0000-4000-8000-000000000009/history.json',
      'log/notes.txt',
    ];
    for (const key of planted) await put(`audit/prod/${key}`, '{"planted":true}');
    // Anyone with write access can add a version on top, or a delete marker: the record stays, verify names both.
    await put(`audit/prod/${bundle}history.json`, 'forged');
    await store.client.send(new DeleteObjectCommand({ Bucket, Key: `audit/prod/${bundle}report.json` }));
    const result = await verify();
    expect(result.ok).toBe(false);
    const problems = Object.fromEntries(
      result.problems.map((p) => [p.subject.replace(/ \(version .*\)$/, ''), p.problem]),
    );
    for (const key of planted) expect(problems[key]).toMatch(/not accounted for by a manifest, a leaf or a checkpoint/);
    expect(problems[`${bundle}history.json`]).toMatch(/a later version with other bytes on top of the record/);
    expect(problems[`${bundle}report.json`]).toMatch(/a delete marker that hides the record/);
    expect(result.problems).toHaveLength(planted.length + 2);
    for (const p of result.problems.filter((p) => !planted.includes(p.subject)))
      expect(p.subject).toMatch(/ \(version [^)]+\)$/);
    expect((await store.get(`${bundle}history.json`)).toString()).not.toBe('forged');
  });
});

describe('legal hold on S3', () => {
  test('a held version cannot be deleted until the hold is released; placing and lifting it are logged', async () => {
    const Bucket = 'audit-hold';
    // versitygw 1.8 skips the legal-hold check once a version's retention date has passed (its
    // auth/object_lock.go returns early), where AWS S3 keeps refusing. So the hold is shown alone, on
    // versions written without retention (MANDATE_AUDIT_S3_RETENTION_DAYS=0); COMPLIANCE retention
    // refusing deletes is shown in store-s3.test.ts.
    const store = new S3AuditStore({
      endpoint: server.endpoint,
      region: server.region,
      bucket: Bucket,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      forcePathStyle: true,
      retentionDays: 0,
    });
    stores.push(store);
    await store.ensureBucket();
    const keys = generateKeyPair('mandate-audit-hold');
    const exporter = new AuditExporter({ store, signerKey: keys.signerKey, origin: 'mandate/audit/hold' });
    await exporter.exportHistory(historyOf(1));
    await exporter.exportHistory(historyOf(2));
    await exporter.checkpoint();
    const versionOf = async (Key: string) =>
      (await store.client.send(new ListObjectVersionsCommand({ Bucket, Prefix: Key }))).Versions![0].VersionId;
    const remove = async (Key: string) =>
      store.client.send(new DeleteObjectCommand({ Bucket, Key, VersionId: await versionOf(Key) }));

    const held = await setLegalHold(exporter, true, { missionId, reason: 'litigation L-7', by: 'counsel@example.com' });
    // Both runs of the mission: three objects each.
    expect(held).toMatchObject({ hold: true, keys: 6, versions: 6, leaf: leafKey(2), checkpoint: { size: 3 } });
    const [history] = (await store.list(`bundles/`)).filter((k) => k.endsWith('history.json'));
    const hold = await store.client.send(
      new GetObjectLegalHoldCommand({ Bucket, Key: history, VersionId: await versionOf(history) }),
    );
    expect(hold.LegalHold?.Status).toBe('ON');
    await expect(verifyAuditStore(store, { verifierKeys: [keys.verifierKey] })).resolves.toMatchObject({
      ok: true,
      counts: { holds: 1 },
    });

    await expect(remove(history)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    // An object never held, without retention here, can be deleted.
    await store.client.send(new PutObjectCommand({ Bucket, Key: 'elsewhere/unheld.txt', Body: 'x' }));
    await expect(remove('elsewhere/unheld.txt')).resolves.toBeDefined();

    const released = await setLegalHold(exporter, false, {
      missionId,
      reason: 'case closed',
      by: 'counsel@example.com',
    });
    expect(released).toMatchObject({ hold: false, versions: 6, leaf: leafKey(3) });
    await expect(remove(history)).resolves.toBeDefined();
    await expect(setLegalHold(exporter, false, { missionId, reason: 'again', by: 'x' })).rejects.toThrow(
      /is not under legal hold/,
    );
    await expect(setLegalHold(exporter, true, { missionId: 'nobody', reason: 'x', by: 'x' })).rejects.toThrow(
      /no exported bundle of mission nobody/,
    );
  });
});
