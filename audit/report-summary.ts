import { formatAmount } from '../core/format';
import type { DecisionReport } from './report';
import type { CheckStatus, ReportVerification } from './report-verification';

/**
 * What a decision report says in one sentence, built from its structured facts (never from the
 * model's own summary), and the marks its verification banner uses in every format.
 */
export function headline(report: DecisionReport): string {
  const { inputs, decision, approvals, action, outcome } = report.layers;
  const who = inputs.initiator ? `, started by ${inputs.initiator}` : '';
  const verdict = outcome.verdict ?? outcome.status;
  const steps = decision.map((d) => {
    const amount = formatAmount((d.params ?? {}) as Record<string, unknown>);
    const what = `${d.actionId ?? '?'} ${d.operation ?? '?'}${amount ? ` of ${amount}` : ''}`;
    const counted = approvals.filter(
      (a) => a.actionId === d.actionId && (a.result === 'accepted' || a.result === 'timed out'),
    );
    const approved = counted.filter((a) => a.decision === 'approve').map((a) => a.approver);
    const rejected = counted.find((a) => a.decision === 'reject');
    const executed = action.find((x) => x.actionId === d.actionId);
    let story =
      d.outcome === 'allow'
        ? 'was allowed by policy'
        : d.outcome === 'deny'
          ? 'was denied by policy'
          : `needed ${d.tier ?? 'an'} approval`;
    if (d.outcome === 'require_approval') {
      if (rejected)
        story +=
          rejected.via === 'timeout' ? ', timed out without a decision' : `, was rejected by ${rejected.approver}`;
      else if (approved.length) story += `, was approved by ${approved.join(' and ')}`;
      else story += ', was never decided';
    }
    if (executed?.status === 'executed') story += ' and executed';
    else if (executed?.status === 'failed') story += ' and failed to execute';
    else if (d.outcome !== 'deny' && !rejected) story += '; nothing was executed';
    return `${what} ${story}`;
  });
  const body = steps.length ? steps.join('; ') : 'no action was proposed';
  return `Mission ${report.workflowId ?? '?'} (${report.missionType ?? 'unknown type'})${who}, ended ${verdict}: ${body}.`;
}

export const MARK: Record<CheckStatus, string> = { ok: '✓', failed: '✗', 'not checked': '–' };

export function verificationTitle(verification: ReportVerification): string {
  return {
    verified: 'Verified: every link checks out',
    failed: 'Verification FAILED',
    'partly verified': 'Partly verified: some links could not be checked',
  }[verification.status];
}
