import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { AuditExporter } from '../../../audit/exporter';
import { openAuditStore, resolveAuditKeys } from '../../../audit/setup';
import type { S3AuditStore } from '../../../audit/store-s3';
import { verifyAuditStore } from '../../../audit/verify';
import { startS3Server } from '../../../infra/s3/s3-server';
import type { S3Server } from '../../../infra/s3/s3-server';
import { loadConfig } from '../../../config';
import { approvedHistory } from '../../support/fixtures';

/**
 * Export and verify on the S3 store (versitygw with Object Lock), configured the way a worker is:
 * MANDATE_AUDIT_STORE=s3 settings, and a local checkpoint key pair generated under the data dir.
 */
let dataDir: string;
let server: S3Server;
let store: S3AuditStore;

/** The fixture as run `n` of its mission: a distinct bundle, the same (signed) votes. */
const historyOf = (n: number) => approvedHistory(1000 + n);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mandate-audit-s3-'));
  server = await startS3Server({ dataDir: join(dataDir, 's3') });
}, 360_000);

afterAll(async () => {
  store?.client.destroy();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('bundles exported to S3 verify, re-export writes nothing, and a later overwrite cannot change the record', async () => {
  const config = loadConfig({
    MANDATE_DATA_DIR: dataDir,
    MANDATE_AUDIT_STORE: 's3',
    MANDATE_AUDIT_S3_ENDPOINT: server.endpoint,
    MANDATE_AUDIT_S3_REGION: server.region,
    MANDATE_AUDIT_S3_BUCKET: 'audit-export',
    MANDATE_AUDIT_S3_ACCESS_KEY_ID: server.accessKeyId,
    MANDATE_AUDIT_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    MANDATE_AUDIT_S3_FORCE_PATH_STYLE: 'true',
    MANDATE_AUDIT_S3_RETENTION_DAYS: '1',
  }).audit;
  const keys = resolveAuditKeys(config);
  expect(keys.local).toEqual({ dir: join(dataDir, 'audit-keys'), created: true });
  expect(resolveAuditKeys(config).signerKey).toBe(keys.signerKey); // generated once, then reused
  store = (await openAuditStore(config)) as S3AuditStore;
  expect(store.kind).toBe('s3');

  const exporter = new AuditExporter({ store, signerKey: keys.signerKey!, origin: config.origin });
  for (const n of [1, 2]) expect((await exporter.exportHistory(historyOf(n))).written).toBe(4);
  expect(await exporter.checkpoint()).toMatchObject({ size: 2, created: true });
  const verify = () => verifyAuditStore(store, { verifierKeys: keys.verifierKeys, origin: config.origin });
  await expect(verify()).resolves.toMatchObject({ ok: true, counts: { bundles: 2, leaves: 2, checkpoints: 1 } });

  for (const n of [1, 2]) expect((await exporter.exportHistory(historyOf(n))).written).toBe(0);
  expect((await exporter.checkpoint()).created).toBe(false);

  // Anyone with write access can add a version on top; the locked first version stays the record.
  const [history] = (await store.list('bundles/')).filter((k) => k.endsWith('/history.json'));
  await store.client.send(new PutObjectCommand({ Bucket: 'audit-export', Key: history, Body: 'forged' }));
  await expect(verify()).resolves.toMatchObject({ ok: true });
});
