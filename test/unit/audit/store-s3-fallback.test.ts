import type { S3Client } from '@aws-sdk/client-s3';
import {} from '../../../audit/store';
import { sha256Hex } from '../../../core/hash';
import { AuditStoreMisconfigured, S3AuditStore } from '../../../audit/store-s3';

/**
 * What the real server cannot show: a server without conditional writes (501 on If-None-Match).
 * A tiny in-memory S3 answers the handful of calls the store makes.
 */
interface Version {
  Key: string;
  VersionId: string;
  body: Buffer;
  Metadata?: Record<string, string>;
}

function fakeS3(): { client: S3Client; calls: string[]; versions: Version[] } {
  const versions: Version[] = [];
  const calls: string[] = [];
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const { input } = command;
    const name = command.constructor.name;
    calls.push(name + (input.IfNoneMatch ? ':IfNoneMatch' : ''));
    switch (name) {
      case 'PutObjectCommand': {
        if (input.IfNoneMatch)
          throw Object.assign(new Error('Not Implemented'), {
            name: 'NotImplemented',
            $metadata: { httpStatusCode: 501 },
          });
        const version = {
          Key: input.Key as string,
          VersionId: `v${versions.length + 1}`,
          body: Buffer.from(input.Body as Uint8Array),
          Metadata: input.Metadata as Record<string, string>,
        };
        versions.push(version);
        return { VersionId: version.VersionId };
      }
      case 'ListObjectVersionsCommand': // newest first, like S3
        return {
          Versions: versions.filter((v) => v.Key.startsWith(input.Prefix as string)).reverse(),
          IsTruncated: false,
        };
      case 'GetObjectCommand': {
        const version = versions.find((v) => v.Key === input.Key && v.VersionId === input.VersionId)!;
        return { Metadata: version.Metadata, Body: { transformToByteArray: async () => version.body } };
      }
      default:
        throw new Error(`fake S3 does not handle ${name}`);
    }
  };
  return { client: { send } as unknown as S3Client, calls, versions };
}

const config = { region: 'us-east-1', bucket: 'audit', accessKeyId: 'k', secretAccessKey: 's', retentionDays: 7 };
const put = (store: S3AuditStore, key: string, text: string) =>
  store.putOnce(key, Buffer.from(text), { sha256Hex: sha256Hex(Buffer.from(text)) });

describe('S3AuditStore without conditional writes', () => {
  it('falls back to HEAD-then-PUT after a 501 and keeps write-once semantics', async () => {
    const fake = fakeS3();
    const store = new S3AuditStore(config, fake.client);
    expect(await put(store, 'bundles/wf/run/m.json', 'one')).toMatchObject({ created: true, versionId: 'v1' });
    expect(fake.calls.slice(0, 3)).toEqual([
      'PutObjectCommand:IfNoneMatch',
      'ListObjectVersionsCommand',
      'PutObjectCommand',
    ]);
    expect((await put(store, 'bundles/wf/run/m.json', 'one')).created).toBe(false);
    await expect(put(store, 'bundles/wf/run/m.json', 'two')).rejects.toThrow(/write-once/);
    expect(fake.versions).toHaveLength(1); // the pre-check stopped both from adding a version
    expect(fake.calls.filter((c) => c === 'PutObjectCommand:IfNoneMatch')).toHaveLength(1); // remembered
  });

  it('with conditionalWrites "if-none-match", a 501 is an error rather than a silent downgrade', async () => {
    const store = new S3AuditStore({ ...config, conditionalWrites: 'if-none-match' }, fakeS3().client);
    await expect(put(store, 'bundles/wf/run/m.json', 'one')).rejects.toMatchObject({ name: 'NotImplemented' });
  });

  it('rejects a bad configuration with the field that is wrong', () => {
    expect(() => new S3AuditStore({ ...config, bucket: 'Not_A_Bucket' })).toThrow(AuditStoreMisconfigured);
    expect(() => new S3AuditStore({ ...config, retentionDays: -1 })).toThrow(/retentionDays/);
    expect(() => new S3AuditStore({ ...config, prefix: 'no-slash' })).toThrow(/prefix/);
  });
});
