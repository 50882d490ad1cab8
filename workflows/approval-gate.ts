import { ApplicationFailure, condition, setHandler, workflowInfo } from '@temporalio/workflow';
import { VOTE_REFUSED, voteSignal, voteUpdate } from '../contract/messages';
import type {
  ApprovalOutcome,
  BoundDecision,
  PendingApproval,
  ProposedAction,
  TrustedSigner,
  Vote,
  VoteInput,
  VoteRefusalCode,
  VoteResult,
} from '../contract/mission';
import type { LadderStep } from '../core/mission';
import type { GateView } from '../core/votes';
import { approvalsInStep, validateVote } from '../core/votes';
import type { Controls } from './controls';
import { describe } from './controls';
import type { Rail } from './rail';
import { publishStatus } from './rail';

/** How the gate ended for an action; an approval carries the counted votes (signed) for the grant step. */
export type GateOutcome = { kind: 'decided'; record: ApprovalOutcome; votes: VoteInput[] } | { kind: 'halted' };

/** Called when a ladder step opens (request or escalation), to notify its approvers. */
export type StepNotifier = (pending: PendingApproval, escalated: boolean) => Promise<void>;

/**
 * The approval gate. Approvers vote through the `decide` Update (validated synchronously, so the
 * approver learns at once whether the vote counted) or the `decideSignal` Signal (a refused signal
 * becomes an observation). Both run one validation function. The action walks its tier's ladder:
 * a step that reaches its quorum approves; any authorised rejection rejects; a step that times out
 * escalates; after the last step the action is rejected (fail closed).
 *
 * Pause semantics: while the mission is paused the step's clock stops; on resume the step gets the
 * time it had left, and its deadline moves accordingly. Votes cast while paused still count.
 */
export class ApprovalGate implements GateView {
  readonly pending: Record<string, PendingApproval> = {};
  /** The keys this mission trusts, pinned at load; until then no vote can count (none can be pending either). */
  private signers: readonly TrustedSigner[] = [];

  constructor(
    readonly initiator: string,
    private readonly rail: Rail,
    private readonly controls: Controls,
    readonly settled: Record<string, ApprovalOutcome> = {},
  ) {}

  /** Pins the keys votes are verified against (from `loadMission`, recorded in history). */
  trust(signers: readonly TrustedSigner[]): void {
    this.signers = signers;
  }

  /** Registers the Update and Signal handlers; call before the workflow's first await. */
  install(): void {
    setHandler(voteUpdate, (input) => this.accept(input, 'update'), {
      validator: (input) => {
        const check = this.check(input);
        if (!check.ok) throw refusal(check.code, check.message);
      },
    });
    setHandler(voteSignal, (input) => {
      try {
        this.accept(input, 'signal');
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        const code = err instanceof ApplicationFailure ? (err.details?.[0] as { code?: string })?.code : undefined;
        this.rail.observe('approval_refused', `refused a signalled vote: ${reason}`, {
          received: describe(input),
          ...(code ? { code } : {}),
        });
      }
    });
  }

  /** Walks the ladder until the action is decided, rejected on timeout, or the mission is halted. */
  async await(
    action: ProposedAction,
    decision: BoundDecision,
    ladder: LadderStep[],
    notify: StepNotifier,
  ): Promise<GateOutcome> {
    const id = action.actionId;
    const pending: PendingApproval = {
      actionId: id,
      operation: action.operation,
      params: action.params,
      paramsHash: decision.paramsHash,
      policyVersion: decision.policyVersion,
      tier: decision.tier ?? 'default',
      requestedAt: new Date().toISOString(),
      step: 0,
      steps: ladder.length,
      roles: ladder[0].roles,
      quorum: ladder[0].quorum,
      deadline: '',
      votes: [],
    };
    this.pending[id] = pending;
    try {
      for (let step = 0; step < ladder.length; step++) {
        Object.assign(pending, { step, roles: ladder[step].roles, quorum: ladder[step].quorum });
        const waited = await this.waitStep(pending, ladder[step].timeoutSeconds * 1000, step > 0, notify);
        if (waited === 'halted') return { kind: 'halted' };
        if (waited === 'decided') return { kind: 'decided', record: this.settled[id], votes: countedVotes(pending) };
      }
      const total = ladder.reduce((sum, step) => sum + step.timeoutSeconds, 0);
      const reason = `no decision within ${total}s (${ladder.length} ladder step(s)): rejected (fail closed)`;
      this.settled[id] = {
        actionId: id,
        decision: 'reject',
        approver: 'system',
        approvers: [],
        reason,
        at: new Date().toISOString(),
        via: 'timeout',
      };
      this.rail.observe('approval_timeout', `${id} ${reason}`, { actionId: id });
      return { kind: 'decided', record: this.settled[id], votes: [] };
    } finally {
      delete this.pending[id];
      publishStatus(this.controls.paused ? 'paused' : 'running');
    }
  }

  private async waitStep(
    pending: PendingApproval,
    budgetMs: number,
    escalated: boolean,
    notify: StepNotifier,
  ): Promise<'decided' | 'timeout' | 'halted'> {
    const id = pending.actionId;
    let remaining = budgetMs;
    const open = () => {
      const deadline = new Date(new Date().getTime() + remaining);
      pending.deadline = deadline.toISOString();
      publishStatus(this.controls.paused ? 'paused' : 'awaiting_approval', deadline);
    };
    open();
    const where = `step ${pending.step + 1}/${pending.steps} (${pending.roles.join(', ')}, quorum ${pending.quorum})`;
    this.rail.observe(
      escalated ? 'approval_escalated' : 'approval_requested',
      `${id} ${escalated ? 'escalated to' : 'waits for'} ${pending.tier} approval at ${where} until ${pending.deadline}`,
      {
        actionId: id,
        tier: pending.tier,
        step: pending.step,
        roles: pending.roles,
        quorum: pending.quorum,
        deadline: pending.deadline,
      },
    );
    await notify(pending, escalated);
    for (;;) {
      if (id in this.settled) return 'decided';
      if (this.controls.halted) return 'halted';
      if (this.controls.paused) {
        await condition(() => !this.controls.paused || Boolean(this.controls.halted) || id in this.settled);
        if (!this.controls.paused && !this.controls.halted) open();
        continue;
      }
      const started = new Date().getTime();
      const woke = await condition(
        () => id in this.settled || Boolean(this.controls.halted) || Boolean(this.controls.paused),
        remaining,
      );
      if (!woke) return 'timeout';
      remaining -= new Date().getTime() - started;
      if (remaining <= 0 && !(id in this.settled) && !this.controls.halted) return 'timeout';
    }
  }

  /** The one validation of a vote, signature first, for both channels. */
  private check(input: unknown) {
    return validateVote(input, this, { missionId: workflowInfo().workflowId, signers: this.signers, now: new Date() });
  }

  private accept(input: VoteInput, via: Vote['via']): VoteResult {
    // Validated again here: the Signal path has no validator, and state may have moved since.
    const check = this.check(input);
    if (!check.ok) throw refusal(check.code, check.message);
    const d = check.vote;
    const signer = check.signer!;
    const pending = this.pending[d.actionId];
    const at = new Date().toISOString();
    pending.votes.push({
      approver: d.approver,
      roles: d.roles ?? [],
      decision: d.decision,
      ...(d.reason ? { reason: d.reason } : {}),
      step: pending.step,
      at,
      via,
      signed: true,
      keyId: signer.keyId,
      breakGlass: signer.breakGlass,
      ...(d.voteId ? { voteId: d.voteId } : {}),
      input: d,
    });
    const approvals = approvalsInStep(pending);
    const verb = d.decision === 'approve' ? 'approved' : 'rejected';
    let outcome: VoteResult['outcome'] = 'pending';
    if (d.decision === 'reject') {
      outcome = 'rejected';
      this.settled[d.actionId] = {
        actionId: d.actionId,
        decision: 'reject',
        approver: d.approver,
        approvers: [],
        reason: d.reason,
        at,
        via,
      };
    } else if (approvals.length >= pending.quorum) {
      outcome = 'approved';
      this.settled[d.actionId] = {
        actionId: d.actionId,
        decision: 'approve',
        approver: d.approver,
        approvers: approvals,
        reason: d.reason,
        at,
        via,
      };
    }
    const tally = outcome === 'pending' ? ` (${approvals.length} of ${pending.quorum} approvals)` : '';
    const glass = signer.breakGlass ? ' [break-glass]' : '';
    this.rail.observe(
      'approval',
      `${d.approver} ${verb} ${d.actionId}${glass}${d.reason ? `: ${d.reason}` : ''}${tally}`,
      {
        ...d,
        via,
        step: pending.step,
        outcome,
        signed: true,
        keyId: signer.keyId,
        breakGlass: signer.breakGlass,
      },
    );
    return {
      actionId: d.actionId,
      decision: d.decision,
      approver: d.approver,
      recordedAt: at,
      outcome,
      approvals: approvals.length,
      quorum: pending.quorum,
    };
  }
}

/** The approvals that settled the current step: the signed votes, as received. */
function countedVotes(pending: PendingApproval): VoteInput[] {
  return pending.votes
    .filter((v) => v.step === pending.step && v.decision === 'approve' && v.input)
    .map((v) => v.input as VoteInput);
}

/** A refused vote: the message for people, the code (in `details`) for the service and the CLI. */
function refusal(code: VoteRefusalCode, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: VOTE_REFUSED, message, nonRetryable: true, details: [{ code }] });
}
