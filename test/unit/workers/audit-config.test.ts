import { resolve } from 'node:path';
import { ConfigError, loadAuditConfig } from '../../../workers/config';

test('audit settings default to a filesystem store under the data dir and a namespace origin', () => {
  expect(loadAuditConfig({ MANDATE_DATA_DIR: '/srv/mandate', MANDATE_NAMESPACE: 'prod' })).toEqual({
    store: 'fs',
    dataDir: '/srv/mandate',
    dir: '/srv/mandate/audit',
    origin: 'mandate/audit/prod',
  });
  expect(loadAuditConfig({}).dir).toBe(resolve('.mandate/audit'));
});

test('an S3 store needs its bucket and credentials; bad values stop with a one-line explanation', () => {
  expect(() => loadAuditConfig({ MANDATE_AUDIT_STORE: 's3', MANDATE_AUDIT_S3_BUCKET: 'b' })).toThrow(
    new ConfigError(
      'configuration error: MANDATE_AUDIT_STORE=s3 needs MANDATE_AUDIT_S3_ACCESS_KEY_ID, MANDATE_AUDIT_S3_SECRET_ACCESS_KEY',
    ),
  );
  expect(() => loadAuditConfig({ MANDATE_AUDIT_STORE: 'tape' })).toThrow(/MANDATE_AUDIT_STORE/);
  const s3 = loadAuditConfig({
    MANDATE_AUDIT_STORE: 's3',
    MANDATE_AUDIT_S3_BUCKET: 'audit',
    MANDATE_AUDIT_S3_ACCESS_KEY_ID: 'id',
    MANDATE_AUDIT_S3_SECRET_ACCESS_KEY: 'secret',
    MANDATE_AUDIT_S3_LEGAL_HOLD: '1',
  }).s3;
  expect(s3).toMatchObject({ bucket: 'audit', region: 'us-east-1', retentionDays: 365, legalHold: true });
});
