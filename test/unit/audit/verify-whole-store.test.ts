import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditExporter } from '../../../audit/exporter';
import { bundlePrefix } from '../../../audit/bundle';
import { FsAuditStore } from '../../../audit/store-fs';
import { MemoryAuditStore } from '../../../audit/store-memory';
import { verifyAuditStore } from '../../../audit/verify';
import { generateKeyPair } from '../../../core/signed-note';
import { approvedHistory as historyOf, runIdOf } from '../../support/fixtures';

/**
 * Whole-store verification on the filesystem store: an auditor browsing the directory must not be
 * shown anything verify did not account for. Each planted file fails verify with its path named.
 */
const keys = generateKeyPair('mandate-audit-test');
const origin = 'mandate/audit/test';
let root: string;
let storeDir: string;
let bundle: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mandate-verify-store-'));
  storeDir = join(root, 'store');
  const exporter = new AuditExporter({
    store: new FsAuditStore({ root: storeDir }),
    signerKey: keys.signerKey,
    origin,
  });
  for (const n of [1, 2]) await exporter.exportHistory(historyOf(n));
  await exporter.checkpoint();
  const started = historyOf(1).events[0].workflowExecutionStartedEventAttributes as { workflowId: string };
  bundle = bundlePrefix(started.workflowId, runIdOf(1)).replace(/\/$/, '');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh copy of the exported store with `plant` applied to it. */
async function verifyWith(plant: (dir: string) => void) {
  const dir = mkdtempSync(join(root, 'copy-'));
  rmSync(dir, { recursive: true });
  // The copy keeps the read-only modes; the planted files are written beside them.
  cpSync(storeDir, dir, { recursive: true });
  plant(dir);
  return verifyAuditStore(new FsAuditStore({ root: dir }), { verifierKeys: [keys.verifierKey], origin });
}

test('the exported store verifies and every object in it is accounted for', async () => {
  const result = await verifyAuditStore(new FsAuditStore({ root: storeDir }), {
    verifierKeys: [keys.verifierKey],
    origin,
  });
  expect(result).toMatchObject({ ok: true, problems: [] });
  // 2 bundles × 3 parts, 2 leaves, 1 checkpoint.
  expect(result.counts.objects).toBe(9);
});

const planted: [string, (dir: string) => string, RegExp][] = [
  [
    'a file added inside a bundle folder',
    (dir) => write(dir, `${bundle}/extra.json`, '{"approved":true}'),
    /not accounted for/,
  ],
  [
    'attachments inside a bundle folder',
    (dir) => write(dir, `${bundle}/attachments/evidence.json`, '{"receipt":"forged"}'),
    /not accounted for/,
  ],
  [
    'a fake bundle folder without a manifest',
    (dir) => write(dir, 'bundles/customer-refund-9/00000000-0000-0000-0000-000000000009/history.json', '{"events":[]}'),
    /not accounted for/,
  ],
  ['a stray file under log/', (dir) => write(dir, 'log/notes.txt', 'leaf 2 was removed'), /not accounted for/],
  [
    'a hidden file in a bundle folder',
    (dir) => write(dir, `${bundle}/.evidence.json`, '{}'),
    /hidden file the store never writes/,
  ],
  [
    'a stray temporary file',
    (dir) => write(dir, `${bundle}/.tmp-history.json-abc`, '{}'),
    /temporary file left by an interrupted write/,
  ],
  [
    'a digest file without its object',
    (dir) => write(dir, `${bundle}/.extra.json.sha256`, 'x'),
    /digest file without its object/,
  ],
  [
    'an empty fake bundle folder',
    (dir) => {
      mkdirSync(join(dir, 'bundles', 'customer-refund-8'), { recursive: true });
      return 'bundles/customer-refund-8/';
    },
    /an empty folder/,
  ],
  [
    'a symbolic link',
    (dir) => {
      symlinkSync('/etc/hostname', join(dir, bundle, 'link.json'));
      return `${bundle}/link.json`;
    },
    /not a regular file/,
  ],
];

test.each(planted)('%s fails verify, naming the path', async (_what, plant, problem) => {
  let path = '';
  const result = await verifyWith((dir) => {
    path = plant(dir);
  });
  expect(result.ok).toBe(false);
  expect(result.problems).toEqual([{ subject: path, problem: expect.stringMatching(problem) }]);
});

test('the memory store reports planted keys the same way', async () => {
  const store = await MemoryAuditStore.copyOf(new FsAuditStore({ root: storeDir }));
  store.objects.set(`${bundle}/extra.json`, Buffer.from('{}'));
  store.objects.set('bundles/x/../evil', Buffer.from('{}'));
  const result = await verifyAuditStore(store, { verifierKeys: [keys.verifierKey], origin });
  expect(result.problems).toEqual([
    { subject: `${bundle}/extra.json`, problem: expect.stringMatching(/not accounted for/) },
    { subject: 'bundles/x/../evil', problem: 'not a valid audit key' },
  ]);
});

function write(dir: string, key: string, text: string): string {
  const path = join(dir, ...key.split('/'));
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return key;
}
