import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { AuditExporter } from '../audit/exporter';
import { formatReport } from '../audit/report-format';
import { FsAuditStore } from '../audit/store-fs';
import { auditExport, auditReport, auditVerify, readHistorySource } from '../cli/audit';
import type { KeyRing } from '../core/payload-encryption';
import { generateKeyPair } from '../core/signed-note';

/**
 * The demo's audit tour (issue 5): export one closed mission to a filesystem audit store, verify
 * the store (no payload key needed: the bundle holds the history as stored, encrypted), and print
 * the mission's decision report, read with the key ring — what `mandate audit export|verify|report` do.
 */
export async function demoAudit(
  client: Client,
  dir: string,
  missionId: string,
  say: (line?: string) => void,
  keyRing?: KeyRing,
) {
  const keys = generateKeyPair('mandate-demo-audit'); // a throwaway checkpoint key for the demo
  const origin = 'mandate/audit/demo';
  const store = new FsAuditStore({ root: dir });
  const exporter = new AuditExporter({ store, signerKey: keys.signerKey, origin });
  const io = { out: (line: string) => say(line), err: (line: string) => say(line) };
  // Visibility is eventually consistent: wait until the closed mission is listed.
  for (let i = 0; i < 100; i++) {
    if ((await exporter.findUnexported(client, { missionId })).runs.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`$ mandate audit export --mission ${missionId}`);
  await auditExport(exporter, client, { missionId, io });
  say('$ mandate audit export   # the same again: nothing new is written');
  await auditExport(exporter, client, { missionId, io });
  say('$ mandate audit verify');
  await auditVerify(store, { verifierKeys: [keys.verifierKey], origin, io });
  const [manifest] = await store.list(`bundles/${missionId}/`);
  const bundle = join(dir, manifest.slice(0, manifest.lastIndexOf('/')));
  say(`$ mandate audit report ${bundle}`);
  say(formatReport(auditReport(readHistorySource(bundle), { keyRing }), 'text').trimEnd());
}
