import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmutable } from '../../../audit/immutable';
import { FsAuditStore } from '../../../audit/store-fs';
import { AuditIntegrityError, InvalidAuditKey, validateKey } from '../../../audit/store';
import { sha256Hex } from '../../../core/hash';
import { BAD_KEYS, auditStoreContract } from './store-contract';

let root: string;
let store: FsAuditStore;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mandate-audit-fs-'));
  store = new FsAuditStore({ root });
});

afterAll(() => {
  // The store leaves everything 0444; the directories stay writable, so removal works.
  rmSync(root, { recursive: true, force: true });
});

auditStoreContract('filesystem', () => store);

const put = (key: string, text: string) =>
  store.putOnce(key, Buffer.from(text), { sha256Hex: sha256Hex(Buffer.from(text)) });

describe('FsAuditStore on disk', () => {
  it('stores the bytes at the key path with a digest beside them, both read-only', async () => {
    await put('bundles/wf-a/run-1/manifest.json', '{"ok":true}');
    const dir = join(root, 'bundles', 'wf-a', 'run-1');
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe('{"ok":true}');
    expect(readFileSync(join(dir, '.manifest.json.sha256'), 'utf8')).toBe(`${sha256Hex(Buffer.from('{"ok":true}'))}\n`);
    expect(statSync(join(dir, 'manifest.json')).mode & 0o777).toBe(0o444);
    expect(statSync(join(dir, '.manifest.json.sha256')).mode & 0o777).toBe(0o444);
    expect(readdirSync(dir).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
  });

  it('detects a stored file that was changed behind its back', async () => {
    await put('bundles/wf-b/run-1/events.jsonl', 'genuine');
    const path = join(root, 'bundles', 'wf-b', 'run-1', 'events.jsonl');
    chmodSync(path, 0o644);
    writeFileSync(path, 'forged!');
    await expect(store.get('bundles/wf-b/run-1/events.jsonl')).rejects.toBeInstanceOf(AuditIntegrityError);
    await expect(store.get('bundles/wf-b/run-1/events.jsonl')).rejects.toThrow(/modified on disk/);
    // A "re-export" of the genuine bytes does not paper over it either.
    await expect(put('bundles/wf-b/run-1/events.jsonl', 'genuine')).rejects.toBeInstanceOf(AuditIntegrityError);
  });

  it('completes a write interrupted between the data and its digest when the same bytes are put again', async () => {
    await put('bundles/wf-c/run-1/manifest.json', 'data');
    unlinkSync(join(root, 'bundles', 'wf-c', 'run-1', '.manifest.json.sha256'));
    await expect(store.get('bundles/wf-c/run-1/manifest.json')).rejects.toThrow(/no recorded sha256/);
    expect((await put('bundles/wf-c/run-1/manifest.json', 'data')).created).toBe(false);
    expect((await store.get('bundles/wf-c/run-1/manifest.json')).toString()).toBe('data');
  });

  it('never lists digests or temp files', async () => {
    await put('bundles/wf-d/run-1/a.json', 'a');
    writeFileSync(join(root, 'bundles', 'wf-d', 'run-1', '.tmp-a.json-123'), 'partial');
    expect(await store.list('bundles/wf-d/')).toEqual(['bundles/wf-d/run-1/a.json']);
  });

  it('cannot be pointed outside its root', async () => {
    await expect(put('../outside.json', 'x')).rejects.toBeInstanceOf(InvalidAuditKey);
    expect(existsSync(join(root, '..', 'outside.json'))).toBe(false);
  });
});

describe('validateKey', () => {
  it.each(['bundles/wf-1/3f2a-run/manifest.json', 'checkpoints/000001.note', 'a', 'x_y/Z-1.2.3'])(
    'accepts %s',
    (key) => {
      expect(validateKey(key)).toBe(key);
    },
  );

  it.each(BAD_KEYS)('rejects %j', (key) => {
    expect(() => validateKey(key)).toThrow(InvalidAuditKey);
  });

  it('explains what is wrong', () => {
    expect(() => validateKey('a/../b')).toThrow('invalid audit key "a/../b": "." and ".." segments are not allowed');
    expect(() => validateKey('a\\b')).toThrow(/backslashes are not allowed/);
    expect(() => validateKey('/a')).toThrow(/must be relative/);
  });
});

describe('FsAuditStore legal hold and retention (the immutable flag)', () => {
  // Needs chattr/lsattr and CAP_LINUX_IMMUTABLE (root in CI) on a filesystem with the flag (ext4 here).
  it('a held object cannot be deleted, by root included, until the hold is lifted', async () => {
    const key = 'bundles/wf-held/run-1/history.json';
    await put(key, '{"held":true}');
    const path = join(root, 'bundles', 'wf-held', 'run-1', 'history.json');
    await store.setLegalHold([key], true);
    expect(() => unlinkSync(path)).toThrow(/EPERM|operation not permitted/i);
    expect(() => writeFileSync(path, 'x')).toThrow();
    await store.setLegalHold([key], false);
    unlinkSync(path);
    expect(existsSync(path)).toBe(false);
  });

  it('with retention, every object is immutable when written, and lifting a hold keeps it so until retention ends', async () => {
    const retained = new FsAuditStore({ root: join(root, 'retained'), retentionDays: 1 });
    await retained.checkImmutableFlag();
    const key = 'bundles/wf-r/run-1/manifest.json';
    await retained.putOnce(key, Buffer.from('{}'), { sha256Hex: sha256Hex(Buffer.from('{}')) });
    const path = join(root, 'retained', 'bundles', 'wf-r', 'run-1', 'manifest.json');
    expect(await retained.isHeld(key)).toBe(true);
    expect(() => unlinkSync(path)).toThrow(/EPERM|operation not permitted/i);
    await retained.setLegalHold([key], true);
    await retained.setLegalHold([key], false);
    expect(await retained.isHeld(key)).toBe(true); // still within its retention
    expect(retained.describe()).toMatchObject({ retentionDays: 1, guarantee: expect.stringMatching(/chattr \+i/) });
    // Clean up as an operator would once retention is over.
    await setImmutable([path, join(path, '..', '.manifest.json.sha256')], false);
  });
});
