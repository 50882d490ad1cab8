import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { bundlePrefix } from '../audit/bundle';
import { encryptedPayloads } from '../audit/decrypt';
import { AuditExporter } from '../audit/exporter';
import { LEAVES_PREFIX, checkpointSizes } from '../audit/log';
import { formatReport } from '../audit/report-format';
import { openAuditStore, witnessEndpoints } from '../audit/setup';
import { auditStatus } from '../audit/status';
import { Witness } from '../audit/witness';
import { createWitnessServer } from '../audit/witness-http';
import { auditExport, auditReport, auditVerify, readHistorySource } from '../cli/audit';
import { printStatus } from '../cli/audit-trust';
import type { AuditConfig, Env } from '../config';
import type { AuditExportResult } from '../contract/audit';
import { exportOnCloseWorkflowId } from '../contract/audit';
import { generateCosignerKeyPair } from '../core/cosignature';
import type { KeyRing } from '../core/payload-encryption';
import { MerkleLog } from '../core/merkle';
import { formatCheckpoint, generateKeyPair, signNote } from '../core/signed-note';

/**
 * The demo's audit tour: an independent witness (what `mandate witness` runs) follows the audit log;
 * each mission is exported as it closes and the witness cosigns the checkpoint; `audit status`,
 * `audit verify` with the witness policy and the decision report follow — and a split view, a second
 * history signed with the log's own key, is refused by the witness. Bundles hold the history as
 * stored (encrypted): verify needs no payload key; the report is read with the key ring.
 */
export interface DemoWitness {
  url: string;
  verifierKey: string;
  origin: string;
  logSignerKey: string;
  logVerifierKey: string;
  /** The worker's MANDATE_AUDIT_* settings: the checkpoint key, origin and this witness. */
  env: Env;
  stop(): Promise<void>;
}

export async function startDemoWitness(say: (line?: string) => void): Promise<DemoWitness> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-demo-witness-'));
  const log = generateKeyPair('mandate-demo-audit'); // the operator's checkpoint key (MANDATE_AUDIT_SIGNER_KEY)
  const origin = 'mandate/audit/demo';
  const keys = generateCosignerKeyPair('witness.demo/w1');
  const witness = await Witness.open({
    signerKey: keys.signerKey,
    logs: [{ origin, verifierKeys: [log.verifierKey] }],
    statePath: join(dir, 'state.json'),
  });
  const server = createWitnessServer(witness);
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  say(`Starting a witness with its own key, following the audit log ${origin}: ${url}`);
  return {
    url,
    verifierKey: keys.verifierKey,
    origin,
    logSignerKey: log.signerKey,
    logVerifierKey: log.verifierKey,
    env: {
      MANDATE_AUDIT_SIGNER_KEY: log.signerKey,
      MANDATE_AUDIT_ORIGIN: origin,
      MANDATE_AUDIT_WITNESSES: `${url}=${keys.verifierKey}`,
    },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function demoAudit(
  client: Client,
  audit: AuditConfig,
  missionId: string,
  others: string[],
  witness: DemoWitness,
  say: (line?: string) => void,
  keyRing?: KeyRing,
): Promise<void> {
  const io = { out: (line: string) => say(line), err: () => undefined };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`demo expectation failed: ${what}`);
    say(`✔ ${what}`);
  };
  const exportOf = async (id: string) => {
    const { runId } = await client.workflow.getHandle(id).describe();
    return (await client.workflow.getHandle(exportOnCloseWorkflowId(id, runId)).result()) as AuditExportResult;
  };
  for (const other of others) await exportOf(other);
  const onClose = await exportOf(missionId);
  const { runId } = await client.workflow.getHandle(missionId).describe();
  say(
    `The mission started its own export as it closed: ${onClose.exported} run exported, checkpoint ${onClose.size}, ` +
      (onClose.witnesses ?? []).map((w) => `${w.witness} ${w.status}`).join(', '),
  );
  check(onClose.witnesses?.[0]?.status === 'cosigned', 'exported on close, and the witness cosigned the checkpoint');

  const store = await openAuditStore(audit, false);
  const exporter = new AuditExporter({
    store,
    signerKey: witness.logSignerKey,
    origin: witness.origin,
    witnesses: witnessEndpoints(audit),
  });
  say('\n$ mandate audit status');
  printStatus(await auditStatus(exporter, { client, witnesses: witnessEndpoints(audit) }), io);
  say(`\n$ mandate audit export --mission ${missionId}   # already exported on close: nothing new`);
  await auditExport(exporter, client, { missionId, io: { out: io.out, err: () => undefined } });
  say(`\n$ mandate audit verify --witness-key ${witness.verifierKey}`);
  const verified = await auditVerify(store, {
    verifierKeys: [witness.logVerifierKey],
    origin: witness.origin,
    witnesses: { keys: [witness.verifierKey] },
    io,
  });
  check(verified.ok, 'every object accounted for, every checkpoint signed, the latest one witnessed');

  say('\nA split view: whoever holds the log key signs a second history of the same size and asks the witness…');
  const size = (await checkpointSizes(store)).at(-1)!;
  const leaves = await Promise.all((await store.list(LEAVES_PREFIX)).slice(0, size).map((k) => store.get(k)));
  const forged = new MerkleLog();
  leaves.slice(0, -1).forEach((leaf) => forged.append(leaf));
  forged.append(Buffer.from('{"forged":"a bundle that was never exported"}\n'));
  const note = signNote(
    formatCheckpoint({ origin: witness.origin, size, rootHash: forged.root(), extensions: [`prev ${size - 1}`] }),
    witness.logSignerKey,
  );
  const response = await fetch(`${witness.url}/add-checkpoint`, { method: 'POST', body: `old ${size}\n\n${note}` });
  say(`POST ${witness.url}/add-checkpoint → ${response.status} ${(await response.text()).trim()}`);
  check(response.status === 422, 'the witness refuses to cosign the forked checkpoint');

  const bundle = join(audit.dir, bundlePrefix(missionId, runId));
  const history = readHistorySource(bundle);
  const sealed = encryptedPayloads(history);
  check(
    !keyRing || sealed.count > 0,
    `the bundle keeps the history as stored: ${sealed.count} payloads encrypted under key ${sealed.keyIds.join(', ')}; verify needed no key`,
  );
  say(`\n$ mandate audit report ${bundle}   # read with the key ring`);
  say(formatReport(auditReport(history, { keyRing }), 'text').trimEnd());
}
