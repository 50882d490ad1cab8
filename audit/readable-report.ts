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
 */
export interface ReadableReport {
  report: DecisionReport;
  timeline: Timeline;
  verification?: ReportVerification;
}

export function reportFromHistory(history: HistoryJson): ReadableReport {
  const report = buildDecisionReport(history);
  return { report, timeline: buildTimeline(history, report) };
}

/**
 * The report of a bundle with its evidence verified. When history.json can no longer be read (a
 * flipped byte can break its JSON), the bundle's report.json stands in for the content, and the
 * banner says the history does not match its manifest.
 */
export function reportFromEvidence(evidence: BundleEvidence, keys: TrustedKeys): ReadableReport {
  let readable: ReadableReport;
  try {
    readable = reportFromHistory(parseHistoryJson(evidence.history));
  } catch (err) {
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
  options?: EvidenceOptions,
): Promise<ReadableReport & { evidence: StoreEvidence }> {
  const evidence = await evidenceFromStore(store, log, workflowId, runId, options);
  return { ...reportFromEvidence(evidence, keys), evidence };
}
