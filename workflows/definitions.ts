import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecisionInput, DecisionRecord, PendingApproval } from '../core/approval';
import type { MissionStatus, MissionVerdict, Observation } from '../core/mission';

/**
 * Every name the outside world uses to talk to a mission: message definitions and search-attribute
 * keys. The CLI, the approvals service and the dev-server launcher import these constants.
 */

export const MISSION_WORKFLOW_TYPE = 'mission';

export const SEARCH_ATTRIBUTES = {
  missionType: defineSearchAttributeKey('MissionType', SearchAttributeType.KEYWORD),
  missionStatus: defineSearchAttributeKey('MissionStatus', SearchAttributeType.KEYWORD),
  pendingApproval: defineSearchAttributeKey('PendingApproval', SearchAttributeType.BOOL),
  approvalDeadline: defineSearchAttributeKey('ApprovalDeadline', SearchAttributeType.DATETIME),
  tokens: defineSearchAttributeKey('MissionTokens', SearchAttributeType.INT),
  costUsd: defineSearchAttributeKey('MissionCostUsd', SearchAttributeType.DOUBLE),
} as const;

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export const SEARCH_ATTRIBUTE_CLI_TYPES: Record<string, string> = {
  MissionType: 'Keyword',
  MissionStatus: 'Keyword',
  PendingApproval: 'Bool',
  ApprovalDeadline: 'Datetime',
  MissionTokens: 'Int',
  MissionCostUsd: 'Double',
};

/** Arguments of the mission workflow. */
export interface MissionArgs {
  missionType: string;
  input: Record<string, unknown>;
  /** Who started the mission (recorded; never allowed to approve its actions). */
  initiator: string;
  /** Reasoning provider for this mission (`provider:model`), instead of the definition's. */
  provider?: string;
  /** State carried across continue-as-new. */
  carried?: CarriedState;
}

/** Mission state handed from one run to the next by continue-as-new. */
export interface CarriedState {
  definitionVersion: string;
  stepIndex: number;
  actionCount: number;
  executedActions: string[];
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  context: Record<string, unknown>;
  observations: Observation[];
  decided: Record<string, DecisionRecord>;
}

export interface MissionResult {
  missionId: string;
  verdict: MissionVerdict;
  summary: string;
  executedActions: string[];
}

/** What the `state` query returns. */
export interface MissionStateView {
  missionId: string;
  missionType: string;
  initiator: string;
  status: MissionStatus;
  definitionVersion?: string;
  pending: PendingApproval[];
  decided: DecisionRecord[];
  verdict?: MissionVerdict;
  summary?: string;
  paused: boolean;
  halted: boolean;
}

/** A vote as recorded: whether it settled the action, or how many more approvals it needs. */
export interface DecideResult {
  actionId: string;
  decision: ApprovalDecisionInput['decision'];
  approver: string;
  recordedAt: string;
  /** `approved` / `rejected` once settled; `pending` while the step's quorum is not reached. */
  outcome: 'approved' | 'rejected' | 'pending';
  approvals: number;
  quorum: number;
}

/** Operator controls (the kill switch). `by` is who asked, recorded on the rail. */
export interface ControlInput {
  by: string;
  reason: string;
}

export const decideUpdate = defineUpdate<DecideResult, [ApprovalDecisionInput]>('decide');
export const decideSignal = defineSignal<[ApprovalDecisionInput]>('decideSignal');
export const haltSignal = defineSignal<[ControlInput]>('halt');
export const pauseSignal = defineSignal<[ControlInput]>('pause');
export const resumeSignal = defineSignal<[ControlInput]>('resume');
export const observationsQuery = defineQuery<Observation[]>('observations');
export const stateQuery = defineQuery<MissionStateView>('state');
