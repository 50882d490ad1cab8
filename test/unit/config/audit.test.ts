import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../../config';

test('audit settings default to a filesystem store under the data dir and a namespace origin', () => {
  expect(loadConfig({ MANDATE_DATA_DIR: '/srv/mandate', MANDATE_NAMESPACE: 'prod' }).audit).toEqual({
    store: 'fs',
    dataDir: '/srv/mandate',
    dir: '/srv/mandate/audit',
    origin: 'mandate/audit/prod',
    witnesses: [],
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

test('witnesses, their quorum, retention and the S3 prefix are checked when the configuration is read', () => {
  const vkey = 'witness.example/w1+f1ed8c47+BCFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS';
  const audit = loadConfig({
    MANDATE_AUDIT_WITNESSES: `http://127.0.0.1:7380=${vkey}, https://w2.example/witness=${vkey.replace('w1', 'w2')}`,
    MANDATE_AUDIT_WITNESS_QUORUM: '2',
    MANDATE_AUDIT_FS_RETENTION_DAYS: '30',
  }).audit;
  expect(audit).toMatchObject({
    witnesses: [
      { url: 'http://127.0.0.1:7380', verifierKey: vkey },
      { url: 'https://w2.example/witness', verifierKey: vkey.replace('w1', 'w2') },
    ],
    witnessQuorum: 2,
    fsRetentionDays: 30,
  });
  expect(() => loadConfig({ MANDATE_AUDIT_WITNESSES: `http://x=${vkey}`, MANDATE_AUDIT_WITNESS_QUORUM: '2' })).toThrow(
    /MANDATE_AUDIT_WITNESS_QUORUM is 2, but MANDATE_AUDIT_WITNESSES lists 1/,
  );
  expect(() => loadConfig({ MANDATE_AUDIT_WITNESSES: vkey })).toThrow(/<http\(s\) url>=<witness verifier key>/);
  const s3 = {
    MANDATE_AUDIT_STORE: 's3',
    MANDATE_AUDIT_S3_BUCKET: 'audit',
    MANDATE_AUDIT_S3_ACCESS_KEY_ID: 'id',
    MANDATE_AUDIT_S3_SECRET_ACCESS_KEY: 'secret',
  };
  expect(() => loadConfig({ ...s3, MANDATE_AUDIT_S3_RETENTION_DAYS: '0' })).toThrow(/MANDATE_AUDIT_S3_LEGAL_HOLD=true/);
  expect(
    loadConfig({ ...s3, MANDATE_AUDIT_S3_RETENTION_DAYS: '0', MANDATE_AUDIT_S3_LEGAL_HOLD: 'true' }).audit.s3,
  ).toMatchObject({
    retentionDays: 0,
    legalHold: true,
    prefix: '',
  });
  expect(() => loadConfig({ ...s3, MANDATE_AUDIT_S3_PREFIX: 'audit' })).toThrow(/MANDATE_AUDIT_S3_PREFIX/);
  expect(loadConfig({ ...s3, MANDATE_AUDIT_S3_PREFIX: 'audit/prod/' }).audit.s3?.prefix).toBe('audit/prod/');
});

test('the witness service defaults to this data dir and the local audit log', () => {
  expect(loadConfig({ MANDATE_DATA_DIR: '/srv/mandate' }).witness).toEqual({
    dir: '/srv/mandate/witness',
    name: 'mandate-witness',
    host: '127.0.0.1',
    port: 7380,
  });
  const logs = loadConfig({ MANDATE_WITNESS_LOGS: 'mandate/audit/prod=mandate-audit+1a2b3c4d+AQID' }).witness.logs;
  expect(logs).toEqual([{ origin: 'mandate/audit/prod', verifierKey: 'mandate-audit+1a2b3c4d+AQID' }]);
  expect(() => loadConfig({ MANDATE_WITNESS_LOGS: 'no-key-here' })).toThrow(/<log origin>=<log verifier key>/);
  expect(() => loadConfig({ MANDATE_WITNESS_NAME: 'has space' })).toThrow(/MANDATE_WITNESS_NAME/);
});
