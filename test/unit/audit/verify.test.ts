import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditExporter } from '../../../audit/exporter';
import type { HistoryJson } from '../../../audit/history';
import { parseHistoryJson } from '../../../audit/history';
import { attestationKeyMap } from '../../../audit/attestation';
import { MemoryAuditStore } from '../../../audit/store-memory';
import { verifyAuditStore } from '../../../audit/verify';
import { createAttestationSigner } from '../../../core/attestation';
import { generateKeyPair } from '../../../core/signed-note';
import { applyMutation, expectEveryMutationDetected } from './tamper';
import { generateEd25519KeyPair } from '../../../core/ed25519';
import type { VoteInput } from '../../../contract/mission';

/** Export → verify → tamper, over an in-memory store built from the committed history fixture. */
const text = readFileSync(
  join(__dirname, '..', '..', 'fixtures', 'histories', 'customer-refund-approved.json'),
  'utf8',
);
const keys = generateKeyPair('mandate-audit-test');
const origin = 'mandate/audit/test';

/** The fixture as if it were mission `n` (distinct ids, so distinct bundles). */
function historyOf(n: number, mutate?: (h: HistoryJson) => void): HistoryJson {
  const history = parseHistoryJson(text);
  const started = history.events[0].workflowExecutionStartedEventAttributes as Record<string, string>;
  started.workflowId = `customer-refund-${String(n).padStart(4, '0')}`;
  started.originalExecutionRunId = `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;
  mutate?.(history);
  return history;
}

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
  const history = [...store.objects.keys()].find((k) =>
    k.endsWith('customer-refund-0002/00000000-0000-0000-0000-000000000002/history.json'),
  )!;
  const problems = async (mutated: MemoryAuditStore) => (await verify(mutated)).problems;

  expect(await problems(applyMutation(store.objects, { kind: 'flip', key: history, at: 100, mask: 1 }))).toEqual([
    {
      subject: expect.stringContaining('customer-refund-0002/'),
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

test('approval attestations are checked when the approvals key is configured, noted otherwise', async () => {
  const service = generateEd25519KeyPair();
  const signer = createAttestationSigner(service.privateKeyPem);
  const pem = service.publicKeyPem;
  const attest = (history: HistoryJson, forge: boolean) => {
    const event = history.events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')!;
    const payload = (
      event.workflowExecutionUpdateAcceptedEventAttributes as {
        acceptedRequest: { input: { args: { payloads: { data: string }[] } } };
      }
    ).acceptedRequest.input.args.payloads[0];
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as VoteInput;
    const started = history.events[0].workflowExecutionStartedEventAttributes as { workflowId: string };
    input.attestation = signer.sign(started.workflowId, input);
    if (forge) input.approver = 'mallory';
    payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
  };
  const store = new MemoryAuditStore();
  const exporter = new AuditExporter({ store, signerKey: keys.signerKey, origin });
  await exporter.exportHistory(historyOf(7, (h) => attest(h, false)));
  await exporter.exportHistory(historyOf(8, (h) => attest(h, true)));
  await exporter.checkpoint();
  const checked = await verifyAuditStore(store, {
    verifierKeys: [keys.verifierKey],
    attestationKeys: attestationKeyMap([pem]),
  });
  expect(checked.counts.attestations).toBe(2);
  expect(checked.problems).toEqual([
    {
      subject: expect.stringContaining('customer-refund-0008/'),
      problem: 'an approval attestation signature does not verify',
    },
  ]);
  const unchecked = await verifyAuditStore(store, { verifierKeys: [keys.verifierKey] });
  expect(unchecked.ok).toBe(true);
  expect(unchecked.notes.join('\n')).toMatch(/attestations present but not checked/);
});

test('an empty store does not pass for a verified one', async () => {
  expect((await verify(new MemoryAuditStore())).problems).toEqual([
    { subject: 'store', problem: expect.stringMatching(/holds no log leaves and no checkpoints/) },
  ]);
});
