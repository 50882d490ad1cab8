import { AuditExporter } from '../../../audit/exporter';
import { MemoryAuditStore } from '../../../audit/store-memory';
import { verifyAuditStore } from '../../../audit/verify';
import { generateKeyPair } from '../../../core/signed-note';
import { approvedHistory as historyOf, firstVote, runIdOf, UNSIGNED_HISTORY } from '../../support/fixtures';
import { applyMutation, expectEveryMutationDetected } from './tamper';

/** Export → verify → tamper, over an in-memory store built from the committed history fixture. */
const keys = generateKeyPair('mandate-audit-test');
const origin = 'mandate/audit/test';

/** Three batches (2 + 1 + 2 runs), each ending in a checkpoint. */
async function exportedStore(): Promise<MemoryAuditStore> {
  const store = new MemoryAuditStore();
  const exporter = new AuditExporter({ store, signerKey: keys.signerKey, origin });
  for (const batch of [[1, 2], [3], [4, 5]]) {
    for (const n of batch) await exporter.exportHistory(historyOf(n));
    await exporter.checkpoint();
  }
  return store;
}

const verify = (store: MemoryAuditStore) => verifyAuditStore(store, { verifierKeys: [keys.verifierKey], origin });

test('an exported store verifies; exporting the same runs again writes nothing new', async () => {
  const store = await exportedStore();
  const result = await verify(store);
  expect(result).toMatchObject({ ok: true, problems: [], counts: { leaves: 5, bundles: 5, checkpoints: 3 } });
  expect(result.latest?.size).toBe(5);
  const before = new Map(store.objects);
  const exporter = new AuditExporter({ store, signerKey: keys.signerKey, origin });
  for (const n of [1, 2, 3, 4, 5]) expect((await exporter.exportHistory(historyOf(n))).written).toBe(0);
  expect((await exporter.checkpoint()).created).toBe(false);
  expect(store.objects).toEqual(before);
});

test('tampering is reported with the name of what broke', async () => {
  const store = await exportedStore();
  const history = [...store.objects.keys()].find((k) => k.endsWith(`/${runIdOf(2)}/history.json`))!;
  const problems = async (mutated: MemoryAuditStore) => (await verify(mutated)).problems;

  expect(await problems(applyMutation(store.objects, { kind: 'flip', key: history, at: 100, mask: 1 }))).toEqual([
    {
      subject: expect.stringContaining(`/${runIdOf(2)}/`),
      problem: expect.stringMatching(/history.json sha256 .* differs/),
    },
  ]);
  expect(await problems(applyMutation(store.objects, { kind: 'delete', key: 'checkpoints/3.note' }))).toEqual([
    { subject: 'checkpoints/5.note', problem: expect.stringMatching(/follows size 3.*one is missing/) },
  ]);
  expect(await problems(applyMutation(store.objects, { kind: 'delete', key: 'checkpoints/5.note' }))).toEqual([
    { subject: 'log/leaves/000000000003.json', problem: 'leaves 3..4 are not covered by any checkpoint' },
  ]);
  const swapped = await problems(
    applyMutation(store.objects, {
      kind: 'swap',
      a: 'log/leaves/000000000000.json',
      b: 'log/leaves/000000000001.json',
    }),
  );
  expect(swapped).toEqual(
    expect.arrayContaining([
      { subject: 'log/leaves/000000000000.json', problem: expect.stringMatching(/says index 1/) },
      { subject: 'checkpoints/2.note', problem: expect.stringMatching(/root hash differs/) },
    ]),
  );
  expect(
    await problems(applyMutation(store.objects, { kind: 'truncate', key: 'log/leaves/000000000004.json', length: 10 })),
  ).toEqual(
    expect.arrayContaining([{ subject: 'log/leaves/000000000004.json', problem: 'leaf record is not valid JSON' }]),
  );
  const other = generateKeyPair('mandate-audit-test');
  expect((await verifyAuditStore(store, { verifierKeys: [other.verifierKey] })).problems).toEqual(
    expect.arrayContaining([
      {
        subject: 'checkpoints/2.note',
        problem: expect.stringMatching(/does not verify: .*no signature by a known key/),
      },
    ]),
  );
});

test('1,000 random flips, deletions, reorders and truncations of a copied store are each detected', async () => {
  const store = await exportedStore();
  expect(await expectEveryMutationDetected(store.objects, { verifierKeys: [keys.verifierKey], origin }, 1000)).toBe(
    1000,
  );
});

test('every counted vote and the start must verify against the keys pinned in the history', async () => {
  const store = new MemoryAuditStore();
  const exporter = new AuditExporter({ store, signerKey: keys.signerKey, origin });
  await exporter.exportHistory(historyOf(7));
  // The counted vote's approver changed after it was signed (someone edited the history's source).
  await exporter.exportHistory(
    historyOf(8, (h) => {
      const vote = firstVote(h);
      vote.input.approver = 'mallory';
      vote.save();
    }),
  );
  // The same mission recorded before votes and starts were signed: its counted vote proves nothing.
  await exporter.exportHistory(historyOf(9, undefined, UNSIGNED_HISTORY));
  await exporter.checkpoint();
  const checked = await verifyAuditStore(store, { verifierKeys: [keys.verifierKey], origin });
  expect(checked.ok).toBe(false);
  expect(checked.problems).toEqual([
    {
      subject: expect.stringContaining(`/${runIdOf(8)}/`),
      problem: expect.stringMatching(
        /action a1: the counted vote by mallory is invalid \(the signature by key \w+ does not match/,
      ),
    },
    {
      subject: expect.stringContaining(`/${runIdOf(9)}/`),
      problem: expect.stringMatching(/: the start by dana.desk is absent \(no attestation\)/),
    },
    {
      subject: expect.stringContaining(`/${runIdOf(9)}/`),
      problem: expect.stringMatching(/action a1: the counted vote by sam.supervisor is absent \(no attestation\)/),
    },
  ]);
  expect(checked.counts.attestations).toBeGreaterThanOrEqual(4);
});

test('an empty store does not pass for a verified one', async () => {
  expect((await verify(new MemoryAuditStore())).problems).toEqual([
    { subject: 'store', problem: expect.stringMatching(/holds no log leaves and no checkpoints/) },
  ]);
});
