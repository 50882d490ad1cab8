import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { readArchive } from '../../../audit/archive';
import { decryptHistory, encryptedPayloads } from '../../../audit/decrypt';
import { AuditExporter } from '../../../audit/exporter';
import { AuditLog } from '../../../audit/log';
import { buildPackage, verifyPackage } from '../../../audit/package';
import { reportForBundle } from '../../../audit/readable-report';
import { formatReport } from '../../../audit/report-format';
import { MemoryAuditStore } from '../../../audit/store-memory';
import { parseHistoryJson } from '../../../audit/history';
import type { HistoryJson } from '../../../audit/history';
import { buildDecisionReport } from '../../../audit/report';
import { KeyRing, payloadFromJson, payloadToJson } from '../../../core/payload-encryption';
import type { PayloadJson } from '../../../core/payload-encryption';
import { generateKeyPair } from '../../../core/signed-note';

/** Encrypted histories read with the key ring: the committed approved refund, encrypted as a worker would. */
const fixture = join(__dirname, '..', '..', 'fixtures', 'histories', 'customer-refund-approved.json');
const load = (): HistoryJson => parseHistoryJson(readFileSync(fixture, 'utf8'));
const ring = new KeyRing([['k1', Buffer.alloc(32, 1)]], 'k1');

/** Encrypts every payload a data converter would (search attributes stay plaintext, as the SDK leaves them). */
function encrypted(history: HistoryJson): HistoryJson {
  const walk = (node: unknown, inSearchAttributes = false): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, inSearchAttributes));
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    if (!inSearchAttributes && typeof (obj.metadata as Record<string, unknown> | undefined)?.encoding === 'string')
      return payloadToJson(ring.encrypt(payloadFromJson(obj as PayloadJson)));
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, walk(v, inSearchAttributes || k === 'searchAttributes')]),
    );
  };
  return walk(structuredClone(history)) as HistoryJson;
}

test('an encrypted history reads, with the key ring, exactly as the plaintext one did', () => {
  const plain = load();
  const sealed = encrypted(plain);
  const found = encryptedPayloads(sealed);
  expect(found.keyIds).toEqual(['k1']);
  expect(found.count).toBeGreaterThan(20);
  expect(JSON.stringify(sealed)).not.toContain(Buffer.from('sam.supervisor').toString('base64').slice(0, 12));

  const keyless = buildDecisionReport(sealed);
  expect(keyless.layers.inputs.input).toBeUndefined();
  expect(keyless.missionType).toBe('customer-refund'); // from the plaintext MissionType search attribute
  expect(keyless.notes.some((n) => /payload is encrypted \(key id k1\)/.test(n.note))).toBe(true);
  // Signatures inside encrypted messages are not checked without the key ring, and are no problem.
  expect(keyless.trust.start).toMatchObject({ signature: 'encrypted' });
  expect(keyless.layers.approvals.map((a) => a.signature)).toEqual(['encrypted']);
  expect(keyless.trust.problems).toEqual([]);
  expect(buildDecisionReport(decryptHistory(sealed, ring)).trust.start).toMatchObject({ signature: 'valid' });

  expect(buildDecisionReport(decryptHistory(sealed, ring))).toEqual(buildDecisionReport(plain));
  expect(encryptedPayloads(decryptHistory(sealed, ring)).count).toBe(0);
  expect(encryptedPayloads(sealed).count).toBe(found.count); // decrypting made a copy
});

test('failure messages the encoding failure converter sealed are put back where the report reads them', () => {
  const attrs = ring.encrypt(
    defaultPayloadConverter.toPayload({ message: 'order ORD-5002 refused', stack_trace: 'at x' }),
  );
  const history = {
    events: [
      {
        eventId: '1',
        eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED',
        workflowExecutionFailedEventAttributes: {
          failure: { message: 'Encoded failure', stackTrace: '', encodedAttributes: payloadToJson(attrs) },
        },
      },
    ],
  } as HistoryJson;
  const failure = (h: HistoryJson) =>
    (h.events[0].workflowExecutionFailedEventAttributes as { failure: { message: string; stackTrace: string } })
      .failure;
  expect(failure(history).message).toBe('Encoded failure');
  const read = decryptHistory(history, ring);
  expect(failure(read)).toMatchObject({ message: 'order ORD-5002 refused', stackTrace: 'at x' });
  expect(buildDecisionReport(read).layers.outcome.failure).toBe('order ORD-5002 refused');
});

test('a history under a key the ring lacks fails, naming the key id', () => {
  const other = new KeyRing([['k2', Buffer.alloc(32, 2)]], 'k2');
  expect(() => decryptHistory(encrypted(load()), other)).toThrow(/key id "k1", which is not in this key ring/);
});

test('the readable report of an encrypted bundle: integrity with no key, content and signatures with the ring', async () => {
  const logKeys = generateKeyPair('mandate-audit-test');
  const origin = 'mandate/audit/encrypted';
  const store = new MemoryAuditStore();
  const exporter = new AuditExporter({ store, signerKey: logKeys.signerKey, origin });
  const sealed = encrypted(load());
  await exporter.exportHistory(sealed);
  await exporter.checkpoint();
  const started = sealed.events[0].workflowExecutionStartedEventAttributes as Record<string, string>;
  const keys = { checkpoint: [logKeys.verifierKey] };
  const read = async (keyRing?: KeyRing) =>
    reportForBundle(
      store,
      await AuditLog.load(store, origin),
      started.workflowId,
      started.originalExecutionRunId,
      keys,
      {
        keyRing,
      },
    );
  const status = (r: Awaited<ReturnType<typeof read>>) =>
    Object.fromEntries((r.verification?.checks ?? []).map((c) => [c.layer, c.status]));

  // Without the ring: every integrity link verifies; what is sealed is "not checked", never "failed".
  const keyless = await read();
  expect(status(keyless)).toMatchObject({ history: 'ok', checkpoint: 'ok', inclusion: 'ok', start: 'not checked' });
  expect(keyless.verification?.status).toBe('partly verified');
  expect(keyless.report.layers.inputs.input).toBeUndefined();
  // With it: the content reads, and the start's and the vote's signatures are checked.
  const withRing = await read(ring);
  expect(status(withRing)).toMatchObject({ history: 'ok', inclusion: 'ok', start: 'ok', approval: 'ok' });
  expect(formatReport(withRing.report, 'html', withRing)).toContain('<b>450.00 USD</b>');
  // A ring without the history's key is the reader's problem: named, not shown as a broken bundle.
  await expect(read(new KeyRing([['k2', Buffer.alloc(32, 2)]], 'k2'))).rejects.toThrow(/key id "k1"/);

  // The evidence package keeps the ciphertext as stored and verifies offline, with no key.
  const pkg = buildPackage(withRing.evidence, keys, 'evidence.zip');
  expect(encryptedPayloads(parseHistoryJson(readArchive(pkg).get('bundle/history.json')!)).count).toBe(
    encryptedPayloads(sealed).count,
  );
  expect(verifyPackage(pkg)).toMatchObject({ ok: true, problems: [] });
});
