import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Catalog } from '../catalog/catalog';
import { CatalogError, InvalidMissionInput } from '../catalog/catalog';
import { confirmHalt, haltAll, sendControl } from '../client/controls';
import type { HaltConfirmation } from '../client/controls';
import { MissionNotFound } from '../client/errors';
import type { MissionDetail } from '../client/missions';
import { getMission, listMissions, missionState, startMission } from '../client/missions';
import { castVote } from '../client/votes';
import { observationsQuery, stateQuery } from '../contract/messages';
import type { ApprovalOutcome, ControlKind, MissionStateView, Observation, PendingApproval } from '../contract/mission';
import type { AttestationSigner } from '../core/signer';
import { quote, where } from '../core/visibility';
import type { GateView } from '../core/votes';
import { MissionAccess } from './access';
import type { Principal } from './auth';
import { DeskError, refusalFor, toDeskError } from './refusals';
import type { RefusalCode } from './refusals';
import type { ApprovalsStore } from './store';

export { DeskError, REFUSALS } from './refusals';
export type { RefusalCode } from './refusals';

/** How long the queue waits for one mission's state before leaving it out. */
const QUERY_TIMEOUT_MS = 3000;

const recentKey = (principal: Principal) => `recent:${principal.subject.trim().toLowerCase()}`;

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
  /** Votes so far, each with the key that signed it and whether that was an operator's break-glass key. */
  votes: { approver: string; decision: string; at?: string; keyId?: string; breakGlass?: boolean }[];
  ruleIds: string[];
  /** The policy's reasons in words (its `@reason` annotations), when the mission's rail was read. */
  reasons: string[];
  /** The agent's rationale for proposing it: the model's claim, shown as such. */
  rationale?: string;
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
  /** The integration the mission reads from and acts on (the source of the evidence). */
  integration?: string;
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
  /** The deployment's mission task queue: where missions are started, and the only one the queue shows. */
  taskQueue: string;
  /** The service's key: it signs every vote, start and control it forwards for a signed-in person. */
  signer: AttestationSigner;
  /** The mission catalog (validates the input of missions started here; knows each type's control roles). */
  catalog: Catalog;
  /** Where each approver's recent decisions are kept (shared by the service's instances). */
  store: ApprovalsStore;
  now?: () => Date;
}

/** How many of an approver's decisions "My recent decisions" keeps. */
const RECENT_KEPT = 50;
const MISSION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const ACTION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** An id from a URL: empty is 404 (there is nothing to name), anything else not shaped like an id is 400. */
export function checkId(kind: 'mission' | 'action', id: string): string {
  if (id === '') throw new DeskError('not_found', `no ${kind} id given`);
  if (!(kind === 'mission' ? MISSION_ID : ACTION_ID).test(id)) {
    throw new DeskError('bad_request', `malformed ${kind} id: letters, digits and . _ : - only`);
  }
  return id;
}

export class ApprovalsDesk {
  private readonly now: () => Date;
  readonly access: MissionAccess;

  constructor(private readonly options: DeskOptions) {
    this.now = options.now ?? (() => new Date());
    this.access = new MissionAccess(options.catalog);
  }

  get signerKeyId(): string {
    return this.options.signer.keyId;
  }

  /** Starts a mission for the signed-in person: the service vouches for them as its initiator. */
  async start(
    principal: Principal,
    body: { missionType?: unknown; input?: unknown; provider?: unknown },
  ): Promise<{ missionId: string; missionType: string; initiator: string }> {
    const { missionType, provider } = body;
    if (typeof missionType !== 'string' || missionType === '')
      throw new DeskError('bad_request', 'missionType is required');
    if (provider !== undefined && typeof provider !== 'string')
      throw new DeskError('bad_request', 'provider must be provider:model');
    try {
      const missionId = await startMission(this.options.client, {
        catalog: this.options.catalog,
        taskQueue: this.options.taskQueue,
        missionType,
        input: body.input,
        initiator: principal.subject,
        ...(provider ? { provider } : {}),
        signer: this.options.signer,
      });
      return { missionId, missionType, initiator: principal.subject };
    } catch (err) {
      if (err instanceof CatalogError || err instanceof InvalidMissionInput)
        throw new DeskError('bad_request', err.message);
      throw err;
    }
  }

  /**
   * Sends a signed control (halt, pause, resume) for a signed-in person holding one of the
   * mission's control roles (the workflow checks the same, against the signature).
   */
  async control(
    principal: Principal,
    missionId: string,
    kind: ControlKind,
    reason: unknown,
  ): Promise<HaltConfirmation | undefined> {
    checkId('mission', missionId);
    if (typeof reason !== 'string' || reason.trim() === '')
      throw new DeskError('reason_required', `a reason is required to ${kind}`);
    const state = await this.stateOf(missionId);
    this.requireControlRole(principal, state.missionType);
    const control = this.options.signer.signControl(
      missionId,
      kind,
      { by: principal.subject, roles: principal.roles, reason: reason.trim() },
      this.now(),
    );
    await sendControl(this.options.client, missionId, kind, control).catch((err: unknown) => {
      throw toDeskError(err);
    });
    // A halt is confirmed by the mission's closed state, not by the signal having been sent.
    return kind === 'halt' ? confirmHalt(this.options.client, missionId) : undefined;
  }

  /** Halts every running mission of the deployment (optionally of one type) the principal may control. */
  async haltAll(principal: Principal, reason: unknown, missionType?: string): Promise<string[]> {
    if (typeof reason !== 'string' || reason.trim() === '')
      throw new DeskError('reason_required', 'a reason is required to halt');
    const types = missionType ? [missionType] : this.options.catalog.types();
    for (const type of types) this.requireControlRole(principal, type);
    const sign = (missionId: string) =>
      this.options.signer.signControl(
        missionId,
        'halt',
        { by: principal.subject, roles: principal.roles, reason: reason.trim() },
        this.now(),
      );
    return haltAll(this.options.client, sign, missionType, this.options.taskQueue);
  }

  private requireControlRole(principal: Principal, missionType: string): void {
    let roles: string[];
    try {
      roles = this.options.catalog.get(missionType).definition.controls.roles;
    } catch {
      throw new DeskError('bad_request', `unknown mission type ${missionType}`);
    }
    if (!principal.roles.some((r) => roles.includes(r))) {
      throw new DeskError(
        'not_your_tier',
        `controls of ${missionType} missions need one of the roles ${roles.join(', ')}; you hold ${principal.roles.join(', ') || 'none'}`,
      );
    }
  }

  /**
   * Pending actions, soonest deadline first: those the principal may vote on, or with `all` every
   * one of a mission they may read (with the reason they may not vote; 403 `no_read_access` for
   * someone who may read no mission type).
   */
  async queue(principal: Principal, all = false): Promise<QueueEntry[]> {
    if (all) this.access.requireReadAny(principal);
    const states = (await this.waitingStates()).filter((state) => this.access.mayRead(principal, state));
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

  /** A mission as the principal may see it (403 `no_read_access` unless they may read it). */
  async mission(principal: Principal, missionId: string): Promise<MissionView> {
    checkId('mission', missionId);
    const detail = await getMission(this.options.client, missionId).catch((err: unknown) => {
      if (err instanceof MissionNotFound) throw new DeskError('not_found', err.message);
      throw err;
    });
    const { state, observations } = detail;
    this.access.requireRead(principal, state);
    let integration: string | undefined;
    try {
      integration = this.options.catalog.get(state.missionType).definition.integration;
    } catch {
      integration = undefined;
    }
    return {
      detail,
      integration,
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
    checkId('mission', missionId);
    checkId('action', actionId);
    const { decision } = body;
    if (decision !== 'approve' && decision !== 'reject') {
      throw new DeskError('bad_request', 'decision must be "approve" or "reject"');
    }
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    const state = await this.stateOf(missionId);
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
    // The binding is the approver's own confirmation of what they saw: never filled in for them.
    if (decision === 'approve' && (typeof body.paramsHash !== 'string' || body.paramsHash === '')) {
      throw new DeskError(
        'binding_required',
        'an approval must carry the paramsHash of the action you confirmed (see GET /api/missions/:id)',
      );
    }
    // The confirmation: what the approver saw must still be what would execute.
    if (body.paramsHash !== undefined && body.paramsHash !== action.paramsHash) {
      throw new DeskError('stale', 'the action changed since you looked at it: review it again');
    }
    // Signed for exactly this mission, action, ladder step, params and policy version.
    const input = this.options.signer.signVote(
      missionId,
      {
        actionId,
        decision,
        approver: principal.subject,
        roles: principal.roles.filter((r) => action.roles.includes(r)),
        paramsHash: action.paramsHash,
        policyVersion: action.policyVersion,
        step: action.step,
        ...(reason ? { reason } : {}),
      },
      this.now(),
    );
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
      await this.options.store.prepend(recentKey(principal), JSON.stringify(recorded), RECENT_KEPT);
      return {
        ...recorded,
        approver: result.approver,
        keyId: input.attestation!.keyId,
        outcome: result.outcome,
        approvals: result.approvals,
        quorum: result.quorum,
      };
    } catch (err) {
      throw toDeskError(err);
    }
  }

  /** One mission's state query; an unknown mission is 404. */
  private stateOf(missionId: string): Promise<MissionStateView> {
    return missionState(this.options.client, missionId).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw new DeskError('not_found', `no mission ${missionId}`);
      throw err;
    });
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

  /** The principal's votes through this service (any instance), newest first. */
  async recentFor(principal: Principal): Promise<RecentVote[]> {
    return (await this.options.store.list(recentKey(principal))).map((v) => JSON.parse(v) as RecentVote);
  }

  /**
   * What changed on a mission since observation `afterSeq` (the live rail): its status and the new
   * observations. Access is checked on every call, so a viewer who loses it stops receiving.
   */
  async follow(
    principal: Principal,
    missionId: string,
    afterSeq: number,
  ): Promise<{ status: string; observations: Observation[] }> {
    checkId('mission', missionId);
    const handle = this.options.client.workflow.getHandle(missionId);
    const state = await this.stateOf(missionId);
    this.access.requireRead(principal, state);
    const observations = await handle.query(observationsQuery);
    return { status: state.status, observations: observations.filter((o) => o.seq > afterSeq) };
  }

  private view(
    principal: Principal,
    p: PendingApproval,
    state: MissionStateView,
    observations?: Observation[],
  ): ActionView {
    const decisionObs = observations?.find((o) => o.kind === 'decision' && o.detail?.actionId === p.actionId);
    const proposal = observations?.find((o) => o.kind === 'proposal' && o.detail?.actionId === p.actionId);
    const rationale = proposal?.detail?.rationale;
    const view: ActionView = {
      ...p,
      votes: p.votes.map((v) => ({
        approver: v.approver,
        decision: v.decision,
        at: v.at,
        keyId: v.keyId,
        breakGlass: Boolean(v.breakGlass),
      })),
      ruleIds: (decisionObs?.detail?.ruleIds as string[] | undefined) ?? [],
      reasons: (decisionObs?.detail?.reasons as string[] | undefined) ?? [],
      ...(typeof rationale === 'string' ? { rationale } : {}),
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
