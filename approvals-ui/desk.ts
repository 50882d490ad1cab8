import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { MissionNotFound } from '../client/errors';
import type { MissionDetail } from '../client/missions';
import { getMission, listMissions, missionState } from '../client/missions';
import { castVote } from '../client/votes';
import { stateQuery } from '../contract/messages';
import type { ApprovalOutcome, MissionStateView, Observation, PendingApproval, VoteInput } from '../contract/mission';
import type { AttestationSigner } from '../core/attestation';
import { quote, where } from '../core/visibility';
import type { GateView } from '../core/votes';
import type { Principal } from './auth';
import { DeskError, refusalFor, toDeskError } from './refusals';
import type { RefusalCode } from './refusals';

export { DeskError, REFUSALS } from './refusals';
export type { RefusalCode } from './refusals';

/** How long the queue waits for one mission's state before leaving it out. */
const QUERY_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/**
 * The approvals desk: what a signed-in approver may see and vote on, and the forwarding of their
 * votes (signed) to the mission. HTTP-free, so pages and the JSON API share every rule.
 */

/** A pending action as an approver sees it. */
export interface ActionView extends Omit<PendingApproval, 'votes'> {
  votes: { approver: string; decision: string; at?: string }[];
  ruleIds: string[];
  expired: boolean;
  /** Why this approver may not vote (absent when they may). */
  refusal?: { code: RefusalCode; message: string };
}

export interface QueueEntry extends ActionView {
  missionId: string;
  missionType: string;
  initiator: string;
}

export interface MissionView {
  detail: MissionDetail;
  actions: ActionView[];
  settled: (ApprovalOutcome & { expired: boolean })[];
}

export interface RecentVote {
  missionId: string;
  actionId: string;
  operation: string;
  decision: 'approve' | 'reject';
  reason?: string;
  at: string;
}

export interface DeskOptions {
  client: Client;
  /** Only missions on this task queue (the deployment's); all of the namespace when unset. */
  taskQueue?: string;
  signer?: AttestationSigner;
  now?: () => Date;
}

export class ApprovalsDesk {
  private readonly recent = new Map<string, RecentVote[]>();
  private readonly now: () => Date;

  constructor(private readonly options: DeskOptions) {
    this.now = options.now ?? (() => new Date());
  }

  get signerKeyId(): string | undefined {
    return this.options.signer?.keyId;
  }

  /** Pending actions, soonest deadline first; only those the principal may vote on unless `all`. */
  async queue(principal: Principal, all = false): Promise<QueueEntry[]> {
    const states = await this.waitingStates();
    const entries = states.flatMap((state) =>
      state.pending.map((p) => ({
        ...this.view(principal, p, state),
        missionId: state.missionId,
        missionType: state.missionType,
        initiator: state.initiator,
      })),
    );
    entries.sort((a, b) => a.deadline.localeCompare(b.deadline));
    return all ? entries : entries.filter((e) => !e.refusal);
  }

  async mission(principal: Principal, missionId: string): Promise<MissionView> {
    const detail = await getMission(this.options.client, missionId).catch((err: unknown) => {
      if (err instanceof MissionNotFound) throw new DeskError('not_found', err.message);
      throw err;
    });
    const { state, observations } = detail;
    return {
      detail,
      actions: state.pending.map((p) => this.view(principal, p, state, observations)),
      settled: state.settled.map((d) => ({ ...d, expired: d.via === 'timeout' })),
    };
  }

  /** Checks every rule the workflow will apply, signs the vote and forwards it. Throws DeskError with the refusal. */
  async vote(
    principal: Principal,
    missionId: string,
    actionId: string,
    body: { decision?: unknown; reason?: unknown; paramsHash?: unknown },
  ): Promise<RecentVote & { approver: string; keyId?: string; outcome: string; approvals: number; quorum: number }> {
    const { decision } = body;
    if (decision !== 'approve' && decision !== 'reject') {
      throw new DeskError('bad_request', 'decision must be "approve" or "reject"');
    }
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    const state = await missionState(this.options.client, missionId).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw new DeskError('not_found', `no mission ${missionId}`);
      throw err;
    });
    const pending = state.pending.find((p) => p.actionId === actionId);
    if (!pending) {
      const earlier = state.settled.find((d) => d.actionId === actionId);
      if (earlier?.via === 'timeout') {
        throw new DeskError('expired', `action ${actionId} expired: nobody decided before its deadline (rejected)`);
      }
      if (earlier) throw new DeskError('already_decided', `${actionId} was already decided by ${earlier.approver}`);
      if (!['running', 'awaiting_approval', 'paused'].includes(state.status)) {
        throw new DeskError('mission_closed', `mission ${missionId} is closed`);
      }
      throw new DeskError('not_pending', `no action ${actionId} awaits approval in ${missionId}`);
    }
    const action = this.view(principal, pending, state);
    if (action.refusal) throw new DeskError(action.refusal.code, action.refusal.message);
    if (decision === 'reject' && reason === '')
      throw new DeskError('reason_required', 'a reason is required to reject');
    // The confirmation: what the approver saw must still be what would execute.
    if (body.paramsHash !== undefined && body.paramsHash !== action.paramsHash) {
      throw new DeskError('stale', 'the action changed since you looked at it: review it again');
    }
    const input: VoteInput = {
      actionId,
      decision,
      approver: principal.subject,
      roles: principal.roles.filter((r) => action.roles.includes(r)),
      paramsHash: action.paramsHash,
      policyVersion: action.policyVersion,
      ...(reason ? { reason } : {}),
    };
    if (this.options.signer) input.attestation = this.options.signer.sign(missionId, input, this.now());
    try {
      const result = await castVote(this.options.client, missionId, input);
      const recorded: RecentVote = {
        missionId,
        actionId,
        operation: action.operation,
        decision,
        ...(reason ? { reason } : {}),
        at: result.recordedAt,
      };
      const mine = this.recent.get(principal.subject) ?? [];
      this.recent.set(principal.subject, [recorded, ...mine].slice(0, 50));
      return {
        ...recorded,
        approver: result.approver,
        keyId: input.attestation?.keyId,
        outcome: result.outcome,
        approvals: result.approvals,
        quorum: result.quorum,
      };
    } catch (err) {
      throw toDeskError(err);
    }
  }

  /**
   * The state of every running mission waiting for approval (on the configured task queue). Each
   * state query is bounded: a mission whose worker is down must not stall the queue.
   */
  private async waitingStates(): Promise<MissionStateView[]> {
    const { client, taskQueue } = this.options;
    const waiting = await listMissions(client, {
      where: where(
        `PendingApproval = true`,
        `ExecutionStatus = 'Running'`,
        taskQueue && `TaskQueue = ${quote(taskQueue)}`,
      ),
      limit: 500,
    });
    const states = await Promise.all(
      waiting.map((m) => withTimeout(client.workflow.getHandle(m.missionId).query(stateQuery), QUERY_TIMEOUT_MS)),
    );
    return states.filter((s): s is MissionStateView => s !== undefined);
  }

  /** This process's record of the principal's votes, newest first. */
  recentFor(principal: Principal): RecentVote[] {
    return this.recent.get(principal.subject) ?? [];
  }

  private view(
    principal: Principal,
    p: PendingApproval,
    state: MissionStateView,
    observations?: Observation[],
  ): ActionView {
    const decisionObs = observations?.find((o) => o.kind === 'decision' && o.detail?.actionId === p.actionId);
    const view: ActionView = {
      ...p,
      votes: p.votes.map((v) => ({ approver: v.approver, decision: v.decision, at: v.at })),
      ruleIds: (decisionObs?.detail?.ruleIds as string[] | undefined) ?? [],
      expired: Date.parse(p.deadline) <= this.now().getTime(),
    };
    const gate: GateView = {
      initiator: state.initiator,
      pending: Object.fromEntries(state.pending.map((x) => [x.actionId, x])),
      settled: Object.fromEntries(state.settled.map((x) => [x.actionId, x])),
    };
    const refusal = refusalFor(principal, view, gate);
    return refusal ? { ...view, refusal } : view;
  }
}
