/**
 * The mission's wire types: its arguments and result, the Explain rail, proposed actions and policy
 * decisions, votes and the approval gate's state. Plain JSON; workflows, activities, clients, the
 * approvals service and the CLI all speak them.
 *
 * Words: a *decision* is what policy says about an action; a *vote* is what a person casts; an
 * *approval outcome* is what the gate settled from the votes (or its timeout); a *grant* is what the
 * worker signs.
 */

/** A state-changing action the mission wants to take. `actionId` is assigned by the workflow, never the model. */
export interface ProposedAction {
  actionId: string;
  operation: string;
  params: Record<string, unknown>;
  rationale: string;
}

/** What policy says about one proposed action. */
export type PolicyOutcome = 'allow' | 'require_approval' | 'deny';

/** The policy decision for one proposed action. Anything that goes wrong is a `deny` (fail closed). */
export interface PolicyDecision {
  outcome: PolicyOutcome;
  /** Approval tier; set only when `outcome` is `require_approval`. */
  tier?: string;
  /** Ids of the rules or policies that determined the outcome, sorted. Empty for a default deny. */
  ruleIds: string[];
  /** Human-readable, one per rule or error. */
  reasons: string[];
  /** sha256 of the policy that decided (Cedar: its sorted (id, text) pairs). */
  policyVersion: string;
  /** Evaluation or request errors; non-empty implies `deny`. */
  errors: string[];
}

/**
 * The checks around policy that can deny an action by themselves: the operation's params schema, the
 * mission's subject (the action's rows must be the subject's), the facts the connector loads from the
 * system of record, and the connector's dry run (`validate`).
 */
export type DecisionCheck = 'params' | 'subject' | 'facts' | 'validate';

/** A decision as the workflow receives it: bound to the exact action it was made for. */
export interface BoundDecision extends PolicyDecision {
  /** sha256 of the canonical JSON of {operation, params}. */
  paramsHash: string;
  engine: 'cedar' | 'rules';
  /** Set when a check around policy denied the action (then `ruleIds` is empty and `reasons` say why). */
  check?: DecisionCheck;
  /** The authoritative facts policy saw, loaded from the system of record (never from the model's params). */
  facts?: Record<string, unknown>;
  /** The rolling aggregates of the action ledger policy saw (`context.aggregates`), when the definition declares any. */
  aggregates?: Record<string, number>;
}

export const OBSERVATION_KINDS = [
  'mission',
  'reasoning',
  'read',
  'read_refused',
  'proposal',
  'decision',
  'approval_requested',
  'approval',
  'approval_refused',
  'approval_timeout',
  'approval_escalated',
  'control_refused',
  'grant',
  /** An action policy allowed (and people approved) was refused afterwards: the dry run before the grant, or the re-check in the effect's transaction. */
  'action_refused',
  'execution',
  'paused',
  'resumed',
  'halted',
  'finish',
  'error',
] as const;
export type ObservationKind = (typeof OBSERVATION_KINDS)[number];

/**
 * One entry of the Explain rail. `summary` is the system's own line; anything the model wrote (its
 * observations, a rationale, its finish summary) is kept apart in `modelText`, which every view shows
 * labelled as the model's and escaped (no newlines, control characters or bidirectional overrides).
 */
export interface Observation {
  seq: number;
  at: string;
  kind: ObservationKind;
  summary: string;
  /** Model-authored text (untrusted data, bounded by the step schema); absent on purely system lines. */
  modelText?: string;
  detail?: Record<string, unknown>;
}

/**
 * Final states a mission can close in: the system's account of what happened, never the model's.
 * A mission that executed anything closes `completed` (it finished) or `completed_with_refusals` (a
 * later proposal was denied or rejected), or `halted` / `over_budget` / `failed` with the executed
 * list; `declined`, `denied` and `rejected` mean nothing was executed.
 */
export const MISSION_VERDICTS = [
  'completed',
  'completed_with_refusals',
  'declined',
  'rejected',
  'denied',
  'halted',
  'over_budget',
  'failed',
] as const;
export type MissionVerdict = (typeof MISSION_VERDICTS)[number];

/** Values of the MissionStatus search attribute. */
export type MissionStatus = 'running' | 'awaiting_approval' | 'paused' | MissionVerdict;

// ---- votes and the approval gate ----------------------------------------------------------------

/** What a voter chooses. */
export type VoteChoice = 'approve' | 'reject';

/** What a trusted key may sign. */
export type SignerPurpose = 'approval' | 'start' | 'control';

/**
 * A key the deployment trusts, as pinned in a mission's history by `loadMission`: the public key
 * only (raw 32-byte Ed25519, hex), what it may sign, and whether it is a break-glass key.
 */
export interface TrustedSigner {
  keyId: string;
  publicKey: string;
  may: SignerPurpose[];
  breakGlass: boolean;
  name?: string;
}

/**
 * An Ed25519 signature over the canonical JSON of a message (a vote, a start, a control) with the
 * attestation's own `keyId`, `signedAt` and `expiresAt` (see core/attestation). Valid only inside
 * that window, which is bounded.
 */
export interface Attestation {
  v: 2;
  keyId: string;
  signedAt: string;
  expiresAt: string;
  /** Hex of the 64-byte signature. */
  signature: string;
}

/**
 * A vote as sent to a mission (the `decide` Update or the `decideSignal` Signal). Every field is
 * covered by the attestation, so identity, roles and binding come from the signed payload only.
 * Field names are recorded in histories and stay as they are (`decision` is the voter's choice).
 */
export interface VoteInput {
  actionId: string;
  decision: VoteChoice;
  approver: string;
  reason?: string;
  /** The approver's roles, as the signer vouches for them. */
  roles?: string[];
  /** Binding: sha256 of {operation, params} (core/grant actionParamsHash) the approver saw. */
  paramsHash?: string;
  /** Binding: the policy version of the decision the approver saw. */
  policyVersion?: string;
  /** The ladder step (0-based) the vote is cast in: a vote cannot be replayed into another step. */
  step?: number;
  /** Unique per vote: a signed vote counts once. */
  voteId?: string;
  attestation?: Attestation;
}

/** One approver's vote on a pending action, as the gate recorded it. */
export interface Vote {
  approver: string;
  roles: string[];
  decision: VoteChoice;
  reason?: string;
  /** Ladder step (0-based) the vote was cast in; quorum counts the current step's votes only. */
  step: number;
  at: string;
  via: 'update' | 'signal';
  /** Verified in the workflow against the keys pinned for this mission (unsigned votes never count). */
  signed: boolean;
  /** The key that signed it, and whether that is a break-glass (operator) key. */
  keyId?: string;
  breakGlass?: boolean;
  voteId?: string;
  /** The vote as received (with its attestation): the grant step verifies it again. */
  input?: VoteInput;
}

/** A pending action as the gate sees it. */
export interface PendingApproval {
  actionId: string;
  operation: string;
  params: Record<string, unknown>;
  /** sha256 of {operation, params}: a vote must name it. */
  paramsHash: string;
  /** Policy version of the decision that asked for approval: a vote must name it. */
  policyVersion: string;
  tier: string;
  requestedAt: string;
  /** Current ladder step (0-based), its roles and quorum, and when it escalates. */
  step: number;
  steps: number;
  roles: string[];
  quorum: number;
  deadline: string;
  votes: Vote[];
}

/** What the gate settled for an action: by quorum, by a rejection, or by the system on timeout. */
export interface ApprovalOutcome {
  actionId: string;
  decision: VoteChoice;
  /** The approver whose vote settled it ("system" on timeout). */
  approver: string;
  /** Everyone whose approval counted towards the quorum (empty for a rejection or timeout). */
  approvers: string[];
  reason?: string;
  at: string;
  via: 'update' | 'signal' | 'timeout';
}

/** Why a vote was refused: a code every layer maps to its own words (never parse the message). */
export const VOTE_REFUSAL_CODES = [
  /** Not a vote at all: wrong shape or types. */
  'malformed',
  'reason_required',
  /** The action was already settled by a person's vote (approved or rejected). */
  'already_decided',
  /** The action was settled by its approval timeout: rejected, fail closed. */
  'expired',
  /** No such action waits for approval in this mission. */
  'not_pending',
  /** Separation of duties: the mission's initiator. */
  'initiator',
  /** The vote names no params hash / policy version. */
  'unbound',
  /** The vote is bound to other params or another policy version than the pending action. */
  'stale',
  /** The voter holds none of the current ladder step's roles. */
  'not_your_step',
  /** One person, one vote per step. */
  'already_voted',
  /** No attestation: identity typed into a message is never trusted. */
  'unsigned',
  /** The attestation is malformed or its signature does not verify over the vote. */
  'bad_signature',
  /** Signed by a key this mission does not trust for votes. */
  'untrusted_key',
  /** Signed outside its validity window. */
  'signature_expired',
  /** This signed vote was counted before. */
  'replayed',
] as const;
export type VoteRefusalCode = (typeof VOTE_REFUSAL_CODES)[number];

/** A vote as recorded: whether it settled the action, or how many more approvals it needs. */
export interface VoteResult {
  actionId: string;
  decision: VoteChoice;
  approver: string;
  recordedAt: string;
  /** `approved` / `rejected` once settled; `pending` while the step's quorum is not reached. */
  outcome: 'approved' | 'rejected' | 'pending';
  approvals: number;
  quorum: number;
}

/** The kill switch's messages. */
export type ControlKind = 'halt' | 'pause' | 'resume';

/**
 * Operator controls (the kill switch): who asks, with which roles and why, signed like a vote.
 * A control counts only from a trusted key allowed to sign controls, for a role the mission allows.
 */
export interface ControlInput {
  by: string;
  reason: string;
  roles?: string[];
  /** Unique per control message. */
  controlId?: string;
  attestation?: Attestation;
}

/** A control the mission applied, as its result records it (the audit verifier checks its signature). */
export interface AppliedControl {
  kind: ControlKind;
  by: string;
  reason: string;
  keyId: string;
  breakGlass: boolean;
  controlId: string;
  at: string;
}

// ---- the mission workflow's arguments, state and result ------------------------------------------

/** Arguments of the mission workflow. */
export interface MissionArgs {
  missionType: string;
  input: Record<string, unknown>;
  /** Who started the mission (signed in `attestation`; never allowed to vote on its actions). */
  initiator: string;
  /** The start attestation: a trusted key allowed to sign starts vouches for the initiator and input. */
  attestation?: Attestation;
  /** Reasoning provider for this mission (`provider:model`), instead of the definition's. */
  provider?: string;
  /** State carried across continue-as-new. */
  carried?: CarriedState;
}

/** Mission state handed from one run to the next by continue-as-new (plus the definition snapshot). */
export interface CarriedState {
  definitionVersion: string;
  stepIndex: number;
  actionCount: number;
  executedActions: string[];
  /** Proposals refused so far (absent in runs carried before verdicts listed them). */
  refused?: RefusedAction[];
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  context: Record<string, unknown>;
  /** Which operation filled each read context entry (`as` → operation): it declares their personal data. */
  reads?: Record<string, string>;
  observations: Observation[];
  settled: Record<string, ApprovalOutcome>;
  trustedSigners: TrustedSigner[];
  initiatorKey: { keyId: string; breakGlass: boolean };
  controls: AppliedControl[];
}

/** A proposal that did not execute: denied by policy or a check, refused later, or rejected by people. */
export interface RefusedAction {
  actionId: string;
  operation: string;
  by: 'policy' | 'check' | 'approvers';
  reason: string;
}

/** What the model said when it finished, as against what the system saw happen. */
export interface FinishClaim {
  /** The verdict the model claimed. */
  verdict: 'completed' | 'declined';
  /** False when the claim is contradicted by what executed (e.g. "completed" with nothing executed). */
  verified: boolean;
}

export interface MissionResult {
  missionId: string;
  verdict: MissionVerdict;
  /** The system's summary, or for a mission the model finished, the model's own (see `claim`). */
  summary: string;
  /** Who wrote `summary` (absent in early histories: read as the system). */
  summaryBy?: 'model' | 'system';
  /** The model's finish claim, when the model finished the mission. */
  claim?: FinishClaim;
  executedActions: string[];
  /** Proposals that did not execute, and why (absent in early histories). */
  refused?: RefusedAction[];
  /** What the approval gate settled for each action that needed approval (absent in early histories). */
  settled?: ApprovalOutcome[];
  /** Controls the mission applied (absent in early histories). */
  controls?: AppliedControl[];
}

/** What the `state` query returns. */
export interface MissionStateView {
  missionId: string;
  missionType: string;
  initiator: string;
  status: MissionStatus;
  definitionVersion?: string;
  pending: PendingApproval[];
  settled: ApprovalOutcome[];
  verdict?: MissionVerdict;
  summary?: string;
  summaryBy?: 'model' | 'system';
  claim?: FinishClaim;
  paused: boolean;
  halted: boolean;
}
