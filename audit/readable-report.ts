import type { KeyRing } from '../core/payload-encryption';
import { UnknownEncryptionKey } from '../core/payload-encryption';
import { decryptHistory, encryptedPayloads } from './decrypt';
import type { EvidenceOptions, StoreEvidence } from './evidence';
import { evidenceFromStore } from './evidence';
import type { HistoryJson } from './history';
import { parseHistoryJson } from './history';
import type { AuditLog } from './log';
import type { DecisionReport } from './report';
import { buildDecisionReport } from './report';
import type { BundleEvidence, ReportVerification, TrustedKeys } from './report-verification';
import { verifyEvidence } from './report-verification';
import type { AuditStore } from './store';
import type { Timeline } from './timeline';
import { buildTimeline } from './timeline';

/**
 * Everything a readable report shows for one run: the decision report (start, vote and control
 * signatures checked against the keys the history pinned), its timeline and — when the bundle's evidence is at hand — the
 * verification of every link. The CLI, the approvals service's Audit page and the evidence package
 * all build it here.
 *
 * Encrypted histories: the evidence (and so every integrity check) is the ciphertext as stored; the
 * report's content is read from a copy decrypted with the key ring when one is given. Without one,
 * encrypted payloads are noted as unreadable and their signatures as not checked — which is also what
 * an evidence package holds, since it is verified offline without keys.
 */
export interface ReadOptions {
  /** Decrypts an encrypted history for the report (throws UnknownEncryptionKey for a key it lacks). */
  keyRing?: KeyRing;
}

export interface ReadableReport {
  report: DecisionReport;
  timeline: Timeline;
  verification?: ReportVerification;
}

export function reportFromHistory(history: HistoryJson, options: ReadOptions = {}): ReadableReport {
  const readable =
    options.keyRing && encryptedPayloads(history).count > 0 ? decryptHistory(history, options.keyRing) : history;
  const report = buildDecisionReport(readable);
  return { report, timeline: buildTimeline(readable, report) };
}

/**
 * The report of a bundle with its evidence verified. When history.json can no longer be read (a
 * flipped byte can break its JSON), the bundle's report.json stands in for the content, and the
 * banner says the history does not match its manifest.
 */
export function reportFromEvidence(
  evidence: BundleEvidence,
  keys: TrustedKeys,
  options: ReadOptions = {},
): ReadableReport {
  let readable: ReadableReport;
  try {
    readable = reportFromHistory(parseHistoryJson(evidence.history), options);
  } catch (err) {
    // A key the reader lacks is the reader's problem, not the bundle's: thrown, not shown as a broken history.
    if (err instanceof UnknownEncryptionKey) throw err;
    const report = storedReport(evidence.report);
    if (!report) throw err;
    report.notes.push({
      eventId: '-',
      note: `history.json cannot be read (${(err as Error).message}): showing report.json`,
    });
    readable = { report, timeline: { spans: [], marks: [] } };
  }
  return { ...readable, verification: verifyEvidence(readable.report, evidence, keys) };
}

function storedReport(bytes: Buffer | undefined): DecisionReport | undefined {
  try {
    const report = JSON.parse(bytes?.toString('utf8') ?? '') as DecisionReport;
    return report?.layers ? report : undefined;
  } catch {
    return undefined;
  }
}

export async function reportForBundle(
  store: AuditStore,
  log: AuditLog,
  workflowId: string,
  runId: string,
  keys: TrustedKeys,
  options?: EvidenceOptions & ReadOptions,
): Promise<ReadableReport & { evidence: StoreEvidence }> {
  const evidence = await evidenceFromStore(store, log, workflowId, runId, options);
  return { ...reportFromEvidence(evidence, keys, { keyRing: options?.keyRing }), evidence };
}
