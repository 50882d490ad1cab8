import type { DecisionReport } from './report';

/**
 * The trust findings of a decision report as verify problems: every vote, start or control that
 * counted although its signature is missing or does not verify against the keys pinned in that
 * history (the report checks them with core/attestation, the code the workflow runs).
 */
export function trustProblems(report: DecisionReport): string[] {
  return report.trust.problems;
}

/** How many signatures the report checked (for the verifier's counts; encrypted messages were not). */
export function signaturesChecked(report: DecisionReport): number {
  const votes = report.layers.approvals.filter((a) => a.via !== 'timeout' && a.signature !== 'encrypted').length;
  const controls = report.trust.controls.filter((c) => c.signature !== 'encrypted').length;
  const start = report.trust.start.signature;
  return votes + controls + (start === 'absent' || start === 'encrypted' ? 0 : 1);
}
