import { randomUUID } from 'node:crypto';
import type { AuditStore } from '../../../audit/store';
import { AuditIntegrityError, AuditObjectNotFound, InvalidAuditKey, WriteOnceViolation } from '../../../audit/store';
import { sha256Hex } from '../../../core/hash';

/**
 * The write-once contract every AuditStore meets, run by the filesystem unit tests and the S3
 * integration tests alike. `getStore` is called inside each test (the store may be built in a
 * `beforeAll`); each test works under its own random key prefix, so one store serves them all.
 */
export const BAD_KEYS = [
  '',
  '/abs/path.json',
  '../escape.json',
  'bundles/../../etc/passwd',
  'bundles/./x.json',
  'bundles\\wf\\manifest.json',
  'bundles//double.json',
  'bundles/trailing/',
  'bundles/.hidden',
  'bundles/sp ace.json',
  'bundles/colon:name.json',
  'bundles/ümlaut.json',
  `bundles/${'a'.repeat(256)}`,
];

/**
 * `atomicCreate`: the store creates a key atomically (exclusive link on a filesystem, `If-None-Match: *`
 * on S3). Without it (the HEAD-then-PUT fallback for servers lacking conditional writes) two racing
 * writers can both write; the store then guarantees only that everyone reads the same first version.
 */
export function auditStoreContract(
  name: string,
  getStore: () => AuditStore,
  options: { atomicCreate?: boolean } = {},
): void {
  describe(`AuditStore contract: ${name}`, () => {
    const ns = () => `bundles/t-${randomUUID()}`;
    const put = (store: AuditStore, key: string, text: string) => {
      const bytes = Buffer.from(text);
      return store.putOnce(key, bytes, { sha256Hex: sha256Hex(bytes), contentType: 'application/json' });
    };

    it('writes once and reads the same bytes back', async () => {
      const store = getStore();
      const key = `${ns()}/run-1/manifest.json`;
      expect(await store.exists(key)).toBe(false);
      const result = await put(store, key, '{"a":1}');
      expect(result).toMatchObject({ key, created: true, sha256Hex: sha256Hex(Buffer.from('{"a":1}')), size: 7 });
      expect((await store.get(key)).toString()).toBe('{"a":1}');
      expect(await store.exists(key)).toBe(true);
    });

    it('treats an identical re-put as a no-op', async () => {
      const store = getStore();
      const key = `${ns()}/run-1/events.jsonl`;
      expect((await put(store, key, 'same')).created).toBe(true);
      const again = await put(store, key, 'same');
      expect(again.created).toBe(false);
      expect(again.sha256Hex).toBe(sha256Hex(Buffer.from('same')));
      expect((await store.get(key)).toString()).toBe('same');
    });

    it('refuses different bytes under an existing key and keeps the original', async () => {
      const store = getStore();
      const key = `${ns()}/run-1/manifest.json`;
      await put(store, key, 'original');
      const attempt = put(store, key, 'tampered');
      await expect(attempt).rejects.toBeInstanceOf(WriteOnceViolation);
      await expect(attempt).rejects.toMatchObject({
        key,
        existingSha256Hex: sha256Hex(Buffer.from('original')),
        attemptedSha256Hex: sha256Hex(Buffer.from('tampered')),
      });
      expect((await store.get(key)).toString()).toBe('original');
    });

    it('settles two racing writers of different bytes on one stored value', async () => {
      const store = getStore();
      const key = `${ns()}/race.json`;
      const results = await Promise.allSettled([put(store, key, 'first'), put(store, key, 'second')]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(WriteOnceViolation);
      if (options.atomicCreate !== false) {
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
      } else {
        expect(won.length).toBeGreaterThanOrEqual(1);
      }
      const stored = (await store.get(key)).toString();
      expect(['first', 'second']).toContain(stored);
      expect((await store.get(key)).toString()).toBe(stored);
    });

    it('refuses bytes that do not match the given sha256 and stores nothing', async () => {
      const store = getStore();
      const key = `${ns()}/bad-digest.json`;
      await expect(
        store.putOnce(key, Buffer.from('x'), { sha256Hex: sha256Hex(Buffer.from('y')) }),
      ).rejects.toBeInstanceOf(AuditIntegrityError);
      await expect(store.putOnce(key, Buffer.from('x'), { sha256Hex: 'not-hex' })).rejects.toThrow(/64 lower-case hex/);
      expect(await store.exists(key)).toBe(false);
    });

    it('rejects unsafe keys with a clear error', async () => {
      const store = getStore();
      for (const key of BAD_KEYS) {
        await expect(put(store, key, 'x')).rejects.toBeInstanceOf(InvalidAuditKey);
        await expect(store.get(key)).rejects.toThrow(/invalid audit key/);
        await expect(store.exists(key)).rejects.toBeInstanceOf(InvalidAuditKey);
      }
      await expect(store.list('../')).rejects.toBeInstanceOf(InvalidAuditKey);
    });

    it('reports a missing key as not found', async () => {
      const store = getStore();
      const key = `${ns()}/missing.json`;
      await expect(store.get(key)).rejects.toBeInstanceOf(AuditObjectNotFound);
      expect(await store.exists(key)).toBe(false);
    });

    it('lists keys under a prefix, sorted', async () => {
      const store = getStore();
      const base = ns();
      for (const key of ['wf-10/r/b.json', 'wf-1/r2/a.json', 'wf-1/r1/z.json', 'wf-1/r1/a.json'])
        await put(store, `${base}/${key}`, key);
      expect(await store.list(`${base}/wf-1/`)).toEqual([
        `${base}/wf-1/r1/a.json`,
        `${base}/wf-1/r1/z.json`,
        `${base}/wf-1/r2/a.json`,
      ]);
      expect(await store.list(`${base}/wf-1`)).toHaveLength(4); // a key prefix, not a folder
      expect(await store.list(`${base}/nothing/`)).toEqual([]);
      expect(await store.list()).toEqual(expect.arrayContaining([`${base}/wf-10/r/b.json`]));
    });

    it('inventories each key as its own record', async () => {
      const store = getStore();
      const key = `${ns()}/run-1/manifest.json`;
      await put(store, key, '{"a":1}');
      const objects = (await store.inventory()).filter((o) => o.name === key);
      expect(objects).toEqual([expect.objectContaining({ name: key, key })]);
      expect(objects[0].anomaly).toBeUndefined();
    });

    it('places and lifts a legal hold on a key', async () => {
      const store = getStore();
      const key = `${ns()}/run-1/history.json`;
      await put(store, key, 'held');
      expect(await store.isHeld(key)).toBe(false);
      expect(await store.setLegalHold([key], true)).toEqual([expect.objectContaining({ key, held: true })]);
      expect(await store.isHeld(key)).toBe(true);
      await store.setLegalHold([key], false);
      expect(await store.isHeld(key)).toBe(false);
      await expect(store.setLegalHold([`${ns()}/missing.json`], true)).rejects.toBeInstanceOf(AuditObjectNotFound);
    });

    it('has no way to delete', () => {
      const store = getStore() as unknown as Record<string, unknown>;
      for (const name of ['delete', 'remove', 'deleteObject', 'unlink', 'overwrite', 'put'])
        expect(store[name]).toBeUndefined();
      expect(getStore().describe().kind).toBe(getStore().kind);
    });
  });
}
