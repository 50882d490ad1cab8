import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../../config';

test('audit settings default to a filesystem store under the data dir and a namespace origin', () => {
  expect(loadConfig({ MANDATE_DATA_DIR: '/srv/mandate', MANDATE_NAMESPACE: 'prod' }).audit).toEqual({
    store: 'fs',
    dataDir: '/srv/mandate',
    dir: '/srv/mandate/audit',
    origin: 'mandate/audit/prod',
  });
  expect(loadConfig({}).audit.dir).toBe(resolve('.mandate/audit'));
});

test('an S3 store needs its bucket and credentials; bad values stop with a one-line explanation', () => {
  expect(() => loadConfig({ MANDATE_AUDIT_STORE: 's3', MANDATE_AUDIT_S3_BUCKET: 'b' }).audit).toThrow(
    new ConfigError(
      'configuration error: MANDATE_AUDIT_STORE=s3 needs MANDATE_AUDIT_S3_ACCESS_KEY_ID, MANDATE_AUDIT_S3_SECRET_ACCESS_KEY',
    ),
  );
  expect(() => loadConfig({ MANDATE_AUDIT_STORE: 'tape' }).audit).toThrow(/MANDATE_AUDIT_STORE/);
  const s3 = loadConfig({
    MANDATE_AUDIT_STORE: 's3',
    MANDATE_AUDIT_S3_BUCKET: 'audit',
    MANDATE_AUDIT_S3_ACCESS_KEY_ID: 'id',
    MANDATE_AUDIT_S3_SECRET_ACCESS_KEY: 'secret',
    MANDATE_AUDIT_S3_LEGAL_HOLD: '1',
  }).audit.s3;
  expect(s3).toMatchObject({ bucket: 'audit', region: 'us-east-1', retentionDays: 365, legalHold: true });
});
