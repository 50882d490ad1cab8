import type { Client } from '@temporalio/client';
import type { ApprovalDecisionInput, DecisionRecord, PendingApproval } from '../core/approval';
import type { AttestationSigner } from '../core/attestation';
import { decide, getMission, MissionNotFound } from '../core/client/missions';
import type { MissionDetail, PendingItem } from '../core/client/missions';
import { listMissions } from '../core/client/missions';
import { actionParamsHash } from '../core/grant';
import type { Observation } from '../core/mission';
import { stateQuery } from '../workflows/definitions';
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
 * The approvals desk: what a signed-in approver may see and decide, and the forwarding of their
 * decisions (signed) to the mission. HTTP-free, so pages and the JSON API share every rule.
 */

/** Ladder information the workflow is starting to publish on pending actions (optional until it does). */
interface LadderFields {
  step?: number;
  steps?: number;
  roles?: string[];
  quorum?: number;
  votes?: { approver: string; decision: string; at?: string }[];
  paramsHash?: string;
  policyVersion?: string;
}

/** A pending action as an approver sees it. */
export interface ActionView {
  actionId: string;
  operation: string;
  params: Record<string, unknown>;
  tier: string;
  requestedAt: string;
  deadline: string;
  step?: number;
  steps?: number;
  roles: string[];
  quorum: number;
  votes: { approver: string; decision: string; at?: string }[];
  paramsHash: string;
  policyVersion?: string;
  ruleIds: string[];
  expired: boolean;
  /** Why this approver may not decide (absent when they may). */
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
  decided: (DecisionRecord & { expired: boolean })[];
}

export interface RecentDecision {
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
  /** Roles per tier, used while the pending action carries no `roles` of its own. */
  tierRoles: Record<string, string[]>;
  now?: () => Date;
}

export class ApprovalsDesk {
  private readonly recent = new Map<string, RecentDecision[]>();
  private readonly now: () => Date;

  constructor(private readonly options: DeskOptions) {
    this.now = options.now ?? (() => new Date());
  }

  get signerKeyId(): string | undefined {
    return this.options.signer?.keyId;
  }

  /** Pending actions, soonest deadline first; only those the principal may decide unless `all`. */
  async queue(principal: Principal, all = false): Promise<QueueEntry[]> {
    const items = await this.pendingItems();
    const entries = items.map((i) => ({
      ...this.view(principal, i, i.initiator),
      missionId: i.missionId,
      missionType: i.missionType,
      initiator: i.initiator,
    }));
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
      actions: state.pending.map((p) => this.view(principal, p, state.initiator, observations)),
      decided: state.decided.map((d) => ({ ...d, expired: d.via === 'timeout' })),
    };
  }

  /** Checks every rule, signs the decision and forwards it. Throws DeskError with the refusal. */
  async decide(
    principal: Principal,
    missionId: string,
    actionId: string,
    body: { decision?: unknown; reason?: unknown; paramsHash?: unknown },
  ): Promise<
    RecentDecision & { approver: string; keyId?: string; outcome?: string; approvals?: number; quorum?: number }
  > {
    const { decision } = body;
    if (decision !== 'approve' && decision !== 'reject') {
      throw new DeskError('bad_request', 'decision must be "approve" or "reject"');
    }
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    const view = await this.mission(principal, missionId);
    const action = view.actions.find((a) => a.actionId === actionId);
    if (!action) {
      const earlier = view.decided.find((d) => d.actionId === actionId);
      if (earlier?.expired) {
        throw new DeskError('expired', `action ${actionId} expired: nobody decided before its deadline (rejected)`);
      }
      if (earlier) throw new DeskError('already_decided', `${actionId} was already decided by ${earlier.approver}`);
      if (view.detail.summary.execution !== 'RUNNING') {
        throw new DeskError('mission_closed', `mission ${missionId} is closed`);
      }
      throw new DeskError('not_pending', `no action ${actionId} awaits approval in ${missionId}`);
    }
    if (action.refusal) throw new DeskError(action.refusal.code, action.refusal.message);
    if (decision === 'reject' && reason === '')
      throw new DeskError('reason_required', 'a reason is required to reject');
    // The confirmation: what the approver saw must still be what would execute.
    if (body.paramsHash !== undefined && body.paramsHash !== action.paramsHash) {
      throw new DeskError('stale', 'the action changed since you looked at it: review it again');
    }
    const input: ApprovalDecisionInput = {
      actionId,
      decision,
      approver: principal.subject,
      roles: principal.roles.filter((r) => action.roles.includes(r)),
      paramsHash: action.paramsHash,
      ...(reason ? { reason } : {}),
      ...(action.policyVersion ? { policyVersion: action.policyVersion } : {}),
    };
    if (this.options.signer) input.attestation = this.options.signer.sign(missionId, input, this.now());
    try {
      const result = await decide(this.options.client, missionId, input);
      const recorded: RecentDecision = {
        missionId,
        actionId,
        operation: action.operation,
        decision,
        ...(reason ? { reason } : {}),
        at: result.recordedAt,
      };
      const mine = this.recent.get(principal.subject) ?? [];
      this.recent.set(principal.subject, [recorded, ...mine].slice(0, 50));
      // outcome/approvals/quorum: how far the ladder step's quorum is (read loosely: older workers omit them).
      const tally = result as Partial<{ outcome: string; approvals: number; quorum: number }>;
      return {
        ...recorded,
        approver: result.approver,
        keyId: input.attestation?.keyId,
        outcome: tally.outcome,
        approvals: tally.approvals,
        quorum: tally.quorum,
      };
    } catch (err) {
      throw toDeskError(err);
    }
  }

  /**
   * Every pending action of running missions (on the configured task queue), soonest deadline first.
   * Each mission's state query is bounded: a mission whose worker is down must not stall the queue.
   */
  private async pendingItems(): Promise<PendingItem[]> {
    const { client, taskQueue } = this.options;
    const scope = taskQueue ? ` AND TaskQueue = '${taskQueue.replace(/'/g, '')}'` : '';
    const waiting = await listMissions(client, {
      where: `PendingApproval = true AND ExecutionStatus = 'Running'${scope}`,
      limit: 500,
    });
    const items: PendingItem[] = [];
    await Promise.all(
      waiting.map(async (m) => {
        const state = await withTimeout(client.workflow.getHandle(m.missionId).query(stateQuery), QUERY_TIMEOUT_MS);
        for (const p of state?.pending ?? []) {
          items.push({ ...p, missionId: m.missionId, missionType: state!.missionType, initiator: state!.initiator });
        }
      }),
    );
    return items.sort((a, b) => a.deadline.localeCompare(b.deadline));
  }

  /** This process's record of the principal's decisions, newest first. */
  recentFor(principal: Principal): RecentDecision[] {
    return this.recent.get(principal.subject) ?? [];
  }

  private view(principal: Principal, p: PendingApproval, initiator: string, observations?: Observation[]): ActionView {
    const ladder = p as unknown as LadderFields;
    const decisionObs = observations?.find((o) => o.kind === 'decision' && o.detail?.actionId === p.actionId);
    const roles = ladder.roles ?? this.options.tierRoles[p.tier] ?? [p.tier];
    const expired = Date.parse(p.deadline) <= this.now().getTime();
    const view: ActionView = {
      actionId: p.actionId,
      operation: p.operation,
      params: p.params,
      tier: p.tier,
      requestedAt: p.requestedAt,
      deadline: p.deadline,
      step: ladder.step,
      steps: ladder.steps,
      roles,
      quorum: ladder.quorum ?? 1,
      votes: ladder.votes ?? [],
      paramsHash: ladder.paramsHash ?? actionParamsHash(p.operation, p.params),
      policyVersion: ladder.policyVersion ?? (decisionObs?.detail?.policyVersion as string | undefined),
      ruleIds: (decisionObs?.detail?.ruleIds as string[] | undefined) ?? [],
      expired,
    };
    const refusal = refusalFor(principal, view, initiator);
    return refusal ? { ...view, refusal } : view;
  }
}
