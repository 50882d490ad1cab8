import type { DecisionReport } from './report';

/**
 * The trust findings of a decision report as verify problems: every vote, start or control that
 * counted although its signature is missing or does not verify against the keys pinned in that
 * history (the report checks them with core/attestation, the code the workflow runs).
 */
export function trustProblems(report: DecisionReport): string[] {
  return report.trust.problems;
}

/** How many signatures the report checked (for the verifier's counts). */
export function signaturesChecked(report: DecisionReport): number {
  const votes = report.layers.approvals.filter((a) => a.via !== 'timeout').length;
  return votes + report.trust.controls.length + (report.trust.start.signature === 'absent' ? 0 : 1);
}
