import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditExporter } from '../../../audit/exporter';
import { parseHistoryJson } from '../../../audit/history';
import { setLegalHold } from '../../../audit/hold';
import { AuditLog, isHoldRecord, leafKey } from '../../../audit/log';
import { MemoryAuditStore } from '../../../audit/store-memory';
import { verifyAuditStore } from '../../../audit/verify';
import { generateKeyPair } from '../../../core/signed-note';

/** Legal holds recorded in the log: verify checks that each recorded hold is in force in the store. */
const fixture = readFileSync(join(__dirname, '..', '..', 'fixtures', 'histories', 'customer-refund-approved.json'));
const keys = generateKeyPair('mandate-audit-test');
const origin = 'mandate/audit/hold';

test('a hold is recorded with who, when and why; one lifted behind the log’s back fails verify', async () => {
  const store = new MemoryAuditStore();
  const exporter = new AuditExporter({ store, signerKey: keys.signerKey, origin });
  const exported = await exporter.exportHistory(parseHistoryJson(fixture));
  await exporter.checkpoint();
  const at = new Date('2026-03-01T10:00:00Z');
  const outcome = await setLegalHold(exporter, true, {
    missionId: exported.workflowId,
    reason: 'subpoena 2026-17',
    by: 'legal@example.com',
    now: () => at,
  });
  expect(outcome).toMatchObject({ hold: true, keys: 3, leaf: leafKey(1), checkpoint: { size: 2, created: true } });
  const record = (await AuditLog.load(store, origin)).records()[1];
  expect(isHoldRecord(record) && record).toMatchObject({
    kind: 'legal-hold',
    missionId: exported.workflowId,
    hold: true,
    reason: 'subpoena 2026-17',
    by: 'legal@example.com',
    at: at.toISOString(),
  });
  const verify = () => verifyAuditStore(store, { verifierKeys: [keys.verifierKey], origin });
  await expect(verify()).resolves.toMatchObject({ ok: true, counts: { holds: 1, leaves: 2 } });

  const [held] = [...store.held].filter((k) => k.endsWith('history.json'));
  store.held.delete(held);
  expect((await verify()).problems).toEqual([
    { subject: held, problem: `legal hold placed in ${leafKey(1)} (subpoena 2026-17) is not in force in the store` },
  ]);
  await expect(setLegalHold(exporter, true, { missionId: exported.workflowId, reason: '  ', by: 'x' })).rejects.toThrow(
    /a reason is required/,
  );
});
