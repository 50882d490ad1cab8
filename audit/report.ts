import { haltSignal, pauseSignal, resumeSignal, voteSignal, voteUpdate } from '../contract/messages';
import type { ControlInput, ControlKind, SignerPurpose, TrustedSigner, VoteInput } from '../contract/mission';
import { controlMessage, startMessage, verifyAttestation, voteMessage } from '../core/attestation';
import { MISSION_ACTIVITIES } from '../contract/names';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';
import { actionParamsHash } from '../core/grant';
import type { HistoryEventJson, HistoryJson } from './history';
import type { PayloadJson } from './history';
import { attributesOf, decodePayload, firstPayload, isEncryptedField, shortType } from './history';

/**
 * The decision report: a mission's path in six layers (inputs, policy, decision, approvals, action,
 * outcome), derived from the event history alone — activity inputs and results, Update and Signal
 * inputs, timers and the close event. Parsing is defensive: the workflow evolves (Cedar decisions,
 * approval ladders, grants, kill switch), so unknown activities, messages and fields are listed in
 * `notes`, never fatal. Each event type and each activity type (by the contract's names) has its own
 * handler; nothing is inferred from summary prose. Approval signatures are filled in later by the
 * verifier (`signature`).
 */
export const REPORT_SCHEMA = 'mandate.audit.report/v1';

export interface ReportRead {
  at?: string;
  operation?: string;
  params?: unknown;
  ok: boolean;
  refused?: string;
}
export interface ReportInputs {
  at?: string;
  workflowType?: string;
  missionType?: string;
  initiator?: string;
  input?: unknown;
  definitionVersion?: string;
  definitionTitle?: string;
  reads: ReportRead[];
}
export interface ReportPolicy {
  at?: string;
  actionId?: string;
  policyVersion?: string;
  ruleIds: string[];
  reasons: string[];
  /** Decision fields this report does not interpret (e.g. Cedar diagnostics). */
  extra?: Record<string, unknown>;
}
export interface ReportDecision {
  proposedAt?: string;
  decidedAt?: string;
  actionId?: string;
  operation?: string;
  params?: unknown;
  paramsHash?: string;
  rationale?: string;
  outcome?: string;
  tier?: string;
}
/**
 * A signature checked against the keys pinned in the history: verified, or why not; `encrypted`: the
 * message is an encrypted payload, so only a report read with the key ring can check it.
 */
export type SignatureStatus = 'valid' | 'absent' | 'invalid' | 'encrypted';
export interface ReportSignature {
  signature: SignatureStatus;
  /** Why it does not verify (absent or invalid). */
  signatureProblem?: string;
  keyId?: string;
  breakGlass?: boolean;
}
export interface ReportApproval extends ReportSignature {
  at?: string;
  actionId?: string;
  approver?: string;
  decision?: string;
  reason?: string;
  roles?: string[];
  via: 'update' | 'signal' | 'timeout';
  /** Update: accepted by the workflow (completed without failure); signal: decided inside the workflow. */
  result: 'accepted' | 'refused' | 'recorded' | 'timed out';
  refusal?: string;
  attestation?: unknown;
}

/** A control (halt, pause, resume) the mission applied, with its signature as checked. */
export interface ReportControl extends ReportSignature {
  at?: string;
  kind?: string;
  by?: string;
  reason?: string;
}

/**
 * The trust chain as the history shows it: the keys `loadMission` pinned, the start's signature,
 * and every problem with something that counted (a vote, the start, a control) whose signature
 * is missing or does not verify against those keys.
 */
export interface ReportTrust {
  /** The pinned keys, with their public keys (SPKI PEM) for an auditor to compare with the owners'. */
  pinnedKeys: { keyId: string; publicKey: string; may: string[]; breakGlass: boolean; name?: string }[];
  /** `carried`: a continuation, whose start was checked in the run it continues. */
  start: ReportSignature & { initiator?: string; carried?: boolean };
  controls: ReportControl[];
  problems: string[];
}
export interface ReportAction {
  scheduledAt?: string;
  completedAt?: string;
  actionId?: string;
  operation?: string;
  paramsHash?: string;
  grant?: unknown;
  /** Whether the grant's claims name this mission, action, params hash and policy version (from history). */
  grantBinding?: string;
  approvals?: unknown;
  status: 'executed' | 'failed' | 'pending';
  result?: unknown;
  failure?: string;
}
export interface ReportOutcome {
  at?: string;
  status: string;
  verdict?: string;
  summary?: string;
  executedActions?: unknown;
  failure?: string;
}
export interface ReportNote {
  eventId: string;
  note: string;
}

/** What a run's history says about the run itself; the report and the bundle manifest both carry it. */
export interface RunFacts {
  workflowType?: string;
  missionType?: string;
  definitionVersion?: string;
  policyVersions: string[];
  workerBuildIds: string[];
  startedAt?: string;
  closedAt?: string;
}

export interface DecisionReport extends RunFacts {
  schema: typeof REPORT_SCHEMA;
  workflowId?: string;
  runId?: string;
  layers: {
    inputs: ReportInputs;
    policy: ReportPolicy[];
    decision: ReportDecision[];
    approvals: ReportApproval[];
    action: ReportAction[];
    outcome: ReportOutcome;
  };
  trust: ReportTrust;
  notes: ReportNote[];
}

const CLOSE_TYPES: Record<string, string> = {
  WORKFLOW_EXECUTION_COMPLETED: 'completed',
  WORKFLOW_EXECUTION_FAILED: 'failed',
  WORKFLOW_EXECUTION_TIMED_OUT: 'timed out',
  WORKFLOW_EXECUTION_CANCELED: 'canceled',
  WORKFLOW_EXECUTION_TERMINATED: 'terminated',
  WORKFLOW_EXECUTION_CONTINUED_AS_NEW: 'continued as new',
};
/** Vote messages, by the names recorded in history. */
const VOTE_MESSAGES = new Set<string>([voteUpdate.name, voteSignal.name]);
/** Control messages, by the names recorded in history. */
const CONTROL_MESSAGES = new Set<string>([haltSignal.name, pauseSignal.name, resumeSignal.name]);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** What the event handlers build up while reading one history. */
interface ReportState {
  report: DecisionReport;
  note(event: HistoryEventJson, text: string): void;
  decode(event: HistoryEventJson, field: unknown, what: string): unknown;
  scheduled: Map<string, { type: string; input: Obj; at?: string }>;
  updates: Map<string, ReportApproval>;
  buildIds: Set<string>;
  policyVersions: Set<string>;
  /** The decision activity's input, waiting for its result. */
  pendingDecision?: ReportDecision;
  /** A grant minted by its own activity, waiting for the executeAction it authorises. */
  pendingGrant?: unknown;
  /** Approvers each grant named (mintGrant input), by action id: the approvals that counted. */
  grantApprovers: Map<string, string[]>;
  /** What the gate settled, from the workflow's result (absent in early histories). */
  settled?: Obj[];
  /** Controls the mission applied, from its result. */
  appliedControls?: Obj[];
  /** The keys loadMission pinned (none in histories recorded before the trust chain). */
  pinned: TrustedSigner[];
  /** The workflow's arguments (the start attestation) and every vote and control message as received. */
  startArgs?: Obj;
  voteInputs: Map<ReportApproval, Obj>;
  /** Messages (start arguments, vote and control inputs) whose payload is encrypted. */
  sealed: WeakSet<Obj>;
  controlSignals: { kind: string; input: Obj; at?: string }[];
}

/** What an activity contributes to the report, keyed by the activity type names of the contract. */
interface ActivityHandler {
  scheduled?(s: ReportState, input: Obj, at?: string): void;
  completed?(s: ReportState, input: Obj, result: unknown, at?: string): void;
  failed?(s: ReportState, failure: string, at?: string): void;
}

const ACTIVITY_HANDLERS: Record<string, ActivityHandler> = {
  [MISSION_ACTIVITIES.loadMission]: {
    completed(s, _input, result) {
      const r = obj(result);
      const { inputs } = s.report.layers;
      inputs.definitionVersion = str(r.definitionVersion);
      inputs.definitionTitle = str(obj(r.definition).title);
      s.report.definitionVersion = inputs.definitionVersion;
      s.pinned = Array.isArray(r.trustedSigners) ? (r.trustedSigners as TrustedSigner[]) : [];
    },
  },
  [MISSION_ACTIVITIES.reason]: {},
  [MISSION_ACTIVITIES.notifyApprovers]: {},
  [MISSION_ACTIVITIES.readData]: {
    completed(s, input, result, at) {
      const r = obj(result);
      s.report.layers.inputs.reads.push({
        at,
        operation: str(input.operation),
        params: input.params,
        ok: r.ok === true,
        ...(r.ok === true ? {} : { refused: str(r.refused) }),
      });
    },
  },
  [MISSION_ACTIVITIES.decideAction]: {
    scheduled(s, input, at) {
      const action = obj(input.action);
      s.pendingDecision = {
        proposedAt: at,
        actionId: str(action.actionId),
        operation: str(action.operation),
        params: action.params,
        paramsHash: paramsHash(action),
        rationale: str(action.rationale),
      };
    },
    completed(s, _input, result, at) {
      const { outcome: decided, tier, ruleIds, reasons, policyVersion, ...extra } = obj(result);
      const decision = s.pendingDecision ?? {};
      s.pendingDecision = undefined;
      s.report.layers.decision.push({ ...decision, decidedAt: at, outcome: str(decided), tier: str(tier) });
      s.report.layers.policy.push({
        at,
        actionId: decision.actionId,
        policyVersion: str(policyVersion),
        ruleIds: strs(ruleIds),
        reasons: strs(reasons),
        ...(Object.keys(extra).length ? { extra } : {}),
      });
      if (typeof policyVersion === 'string') s.policyVersions.add(policyVersion);
    },
  },
  [MISSION_ACTIVITIES.mintGrant]: {
    scheduled(s, input) {
      const actionId = str(obj(input.action).actionId);
      if (actionId) s.grantApprovers.set(actionId, strs(input.approvers));
    },
    completed(s, _input, result) {
      s.pendingGrant = result;
    },
  },
  [MISSION_ACTIVITIES.executeAction]: {
    scheduled(s, input, at) {
      const action = obj(input.action);
      const grant = input.grant ?? s.pendingGrant;
      s.report.layers.action.push({
        scheduledAt: at,
        actionId: str(action.actionId),
        operation: str(action.operation),
        paramsHash: paramsHash(action),
        approvals: input.approvals,
        ...(grant !== undefined ? { grant } : {}),
        status: 'pending',
      });
      s.pendingGrant = undefined;
    },
    completed(s, _input, result, at) {
      const r = obj(result);
      const action = lastPending(s);
      if (action) Object.assign(action, { status: 'executed', result: r.result ?? result, completedAt: at });
      if (r.grant !== undefined && action) action.grant = r.grant;
    },
    failed(s, failure, at) {
      const action = lastPending(s);
      if (action) Object.assign(action, { status: 'failed', failure, completedAt: at });
    },
  },
};

function lastPending(s: ReportState): ReportAction | undefined {
  return [...s.report.layers.action].reverse().find((a) => a.status === 'pending');
}

/** What each kind of history event contributes, keyed by its short event type. */
const EVENT_HANDLERS: Record<string, (s: ReportState, event: HistoryEventJson, attrs: Obj, at?: string) => void> = {
  WORKFLOW_EXECUTION_STARTED(s, event, attrs, at) {
    const { report } = s;
    const { inputs } = report.layers;
    report.startedAt = at;
    report.workflowId = str(attrs.workflowId);
    report.runId = str(attrs.originalExecutionRunId) ?? str(attrs.firstExecutionRunId);
    report.workflowType = str(obj(attrs.workflowType).name);
    inputs.at = at;
    inputs.workflowType = report.workflowType;
    const args = sealedAware(s, obj(s.decode(event, attrs.input, 'workflow input')), attrs.input);
    // Encrypted input: the plaintext MissionType search attribute still names the type.
    inputs.missionType = str(args.missionType) ?? searchAttribute(attrs, SEARCH_ATTRIBUTES.missionType.name);
    inputs.initiator = str(args.initiator);
    inputs.input = args.input;
    report.missionType = inputs.missionType;
    s.startArgs = args;
    if (args.carried) s.note(event, 'run continues an earlier run (continue-as-new): earlier steps are in that run');
  },
  WORKFLOW_TASK_COMPLETED(s, _event, attrs) {
    const buildId = str(obj(attrs.workerVersion).buildId) ?? str(obj(attrs.deploymentVersion).buildId);
    if (buildId) s.buildIds.add(buildId);
  },
  ACTIVITY_TASK_SCHEDULED(s, event, attrs, at) {
    const name = str(obj(attrs.activityType).name) ?? '(unnamed)';
    const input = obj(s.decode(event, attrs.input, `${name} input`));
    s.scheduled.set(String(event.eventId), { type: name, input, at });
    const handler = Object.hasOwn(ACTIVITY_HANDLERS, name) ? ACTIVITY_HANDLERS[name] : undefined;
    if (!handler) s.note(event, `activity ${name} is not interpreted by this report version`);
    handler?.scheduled?.(s, input, at);
  },
  ACTIVITY_TASK_COMPLETED(s, event, attrs, at) {
    const origin = s.scheduled.get(String(attrs.scheduledEventId));
    if (!origin) {
      s.note(event, `completion of unknown activity (scheduled event ${String(attrs.scheduledEventId)})`);
      return;
    }
    const result = s.decode(event, attrs.result, `${origin.type} result`);
    const handler = Object.hasOwn(ACTIVITY_HANDLERS, origin.type) ? ACTIVITY_HANDLERS[origin.type] : undefined;
    handler?.completed?.(s, origin.input, result, at);
  },
  ACTIVITY_TASK_FAILED: activityFailed,
  ACTIVITY_TASK_TIMED_OUT: activityFailed,
  WORKFLOW_EXECUTION_UPDATE_ACCEPTED(s, event, attrs, at) {
    const request = obj(attrs.acceptedRequest);
    const input = obj(request.input);
    const name = str(input.name) ?? '';
    if (!VOTE_MESSAGES.has(name)) {
      s.note(event, `update ${name} is not interpreted by this report version`);
      return;
    }
    const approval = recordVote(s, event, input.args, `update ${name} input`, 'update', at);
    s.updates.set(str(obj(request.meta).updateId) ?? String(event.eventId), approval);
  },
  WORKFLOW_EXECUTION_UPDATE_COMPLETED(s, _event, attrs) {
    const approval = s.updates.get(str(obj(attrs.meta).updateId) ?? '');
    if (!approval) return;
    const result = obj(attrs.outcome);
    if (result.failure) {
      approval.result = 'refused';
      approval.refusal = str(obj(result.failure).message);
    } else {
      approval.result = 'accepted';
    }
  },
  WORKFLOW_EXECUTION_SIGNALED(s, event, attrs, at) {
    const name = str(attrs.signalName) ?? '';
    if (CONTROL_MESSAGES.has(name)) {
      const input = sealedAware(s, obj(s.decode(event, attrs.input, `signal ${name} input`)), attrs.input);
      s.controlSignals.push({ kind: name, input, at });
      return;
    }
    if (!VOTE_MESSAGES.has(name)) {
      s.note(event, `signal ${name} is not interpreted by this report version`);
      return;
    }
    recordVote(s, event, attrs.input, `signal ${name} input`, 'signal', at);
  },
};

/** A vote message as received, in the approvals layer (its signature is checked at the end). */
function recordVote(
  s: ReportState,
  event: HistoryEventJson,
  field: unknown,
  what: string,
  via: 'update' | 'signal',
  at?: string,
): ReportApproval {
  const vote = sealedAware(s, obj(s.decode(event, field, what)), field);
  const approval = approvalFrom(vote, via, at);
  s.report.layers.approvals.push(approval);
  s.voteInputs.set(approval, vote);
  return approval;
}

/** Marks a decoded message as sealed when its payload was encrypted (its signature cannot be checked). */
function sealedAware(s: ReportState, message: Obj, field: unknown): Obj {
  if (isEncryptedField(field)) s.sealed.add(message);
  return message;
}

function activityFailed(s: ReportState, event: HistoryEventJson, attrs: Obj, at?: string): void {
  const origin = s.scheduled.get(String(attrs.scheduledEventId));
  const failure = str(obj(attrs.failure).message) ?? shortType(event).toLowerCase().replace(/_/g, ' ');
  const handler = origin && Object.hasOwn(ACTIVITY_HANDLERS, origin.type) ? ACTIVITY_HANDLERS[origin.type] : undefined;
  handler?.failed?.(s, failure, at);
  s.note(event, `activity ${origin?.type ?? '?'} failed: ${failure}`);
}

function onClose(s: ReportState, event: HistoryEventJson, type: string, attrs: Obj, at?: string): void {
  const { report } = s;
  const { outcome } = report.layers;
  report.closedAt = at;
  outcome.at = at;
  outcome.status = CLOSE_TYPES[type];
  if (type === 'WORKFLOW_EXECUTION_COMPLETED') {
    const r = obj(s.decode(event, attrs.result, 'workflow result'));
    outcome.verdict = str(r.verdict);
    outcome.summary = str(r.summary);
    outcome.executedActions = r.executedActions;
    if (Array.isArray(r.settled)) s.settled = r.settled.map(obj);
    if (Array.isArray(r.controls)) s.appliedControls = r.controls.map(obj);
  } else if (type === 'WORKFLOW_EXECUTION_FAILED') {
    const failure = obj(attrs.failure);
    outcome.verdict = 'failed';
    outcome.failure = str(failure.message) ?? str(obj(failure.cause).message);
  } else if (type === 'WORKFLOW_EXECUTION_TERMINATED') {
    outcome.failure = str(attrs.reason);
  }
}

/** Builds the decision report of one run from its history (JSON format) alone. */
export function buildDecisionReport(history: HistoryJson): DecisionReport {
  const report: DecisionReport = {
    schema: REPORT_SCHEMA,
    policyVersions: [],
    workerBuildIds: [],
    layers: {
      inputs: { reads: [] },
      policy: [],
      decision: [],
      approvals: [],
      action: [],
      outcome: { status: 'running' },
    },
    trust: { pinnedKeys: [], start: { signature: 'absent' }, controls: [], problems: [] },
    notes: [],
  };
  const s: ReportState = {
    report,
    note: (event, text) => report.notes.push({ eventId: String(event.eventId), note: text }),
    decode(event, field, what) {
      const decoded = firstPayload(field);
      if (decoded.ok) return decoded.value;
      this.note(event, `${what}: ${decoded.why}`);
      return undefined;
    },
    scheduled: new Map(),
    updates: new Map(),
    buildIds: new Set(),
    policyVersions: new Set(),
    grantApprovers: new Map(),
    pinned: [],
    voteInputs: new Map(),
    sealed: new WeakSet(),
    controlSignals: [],
  };
  let lastTimerAt: string | undefined;
  for (const event of history.events) {
    const type = shortType(event);
    const attrs = attributesOf(event);
    if (type === 'TIMER_FIRED') lastTimerAt = event.eventTime;
    if (Object.hasOwn(EVENT_HANDLERS, type)) EVENT_HANDLERS[type](s, event, attrs, event.eventTime);
    else if (CLOSE_TYPES[type]) onClose(s, event, type, attrs, event.eventTime);
  }
  report.policyVersions = [...s.policyVersions];
  report.workerBuildIds = [...s.buildIds];
  settleVotes(s, lastTimerAt);
  settleGrants(report);
  settleTrust(s);
  return report;
}

const SEALED: ReportSignature = {
  signature: 'encrypted',
  signatureProblem: 'the message is encrypted: read the report with the key ring to check its signature',
};

/**
 * Checks every signature against the keys pinned in this history (core/attestation, the code the
 * workflow runs), at the time each message arrived. Whatever counted — the start, an accepted vote,
 * an applied control — and does not verify is a trust problem naming mission, action and person.
 */
function settleTrust(s: ReportState): void {
  const { report } = s;
  const missionId = report.workflowId ?? '';
  const at = (iso?: string) => (iso ? new Date(iso) : undefined);
  const check = (
    message: Record<string, unknown>,
    attestation: unknown,
    purpose: SignerPurpose,
    when?: string,
    source?: Obj,
  ): ReportSignature => {
    // Encrypted and read without the key ring: neither checked nor a problem (the keyed report checks it).
    if (source && s.sealed.has(source)) return SEALED;
    if (attestation === undefined) return { signature: 'absent', signatureProblem: 'no attestation' };
    const checked = verifyAttestation(message, attestation, s.pinned, purpose, at(when));
    return checked.ok
      ? { signature: 'valid', keyId: checked.signer.keyId, breakGlass: checked.signer.breakGlass }
      : { signature: 'invalid', signatureProblem: checked.message, keyId: str(obj(attestation).keyId) };
  };
  const trust = report.trust;
  trust.pinnedKeys = s.pinned.map((k) => ({
    keyId: k.keyId,
    publicKey: k.publicKey,
    may: k.may,
    breakGlass: k.breakGlass,
    ...(k.name ? { name: k.name } : {}),
  }));
  const args = s.startArgs ?? {};
  trust.start = {
    initiator: str(args.initiator),
    ...(args.carried ? { carried: true } : {}),
    ...check(
      startMessage(missionId, {
        missionType: str(args.missionType) ?? '',
        input: args.input,
        initiator: str(args.initiator) ?? '',
        provider: str(args.provider),
      }),
      args.attestation,
      'start',
      report.startedAt,
      args,
    ),
  };
  if (!args.carried && trust.start.signature !== 'valid' && trust.start.signature !== 'encrypted') {
    trust.problems.push(
      `mission ${missionId}: the start by ${trust.start.initiator ?? '?'} is ${trust.start.signature} (${trust.start.signatureProblem})`,
    );
  }
  for (const approval of report.layers.approvals) {
    const input = s.voteInputs.get(approval);
    if (!input) continue;
    Object.assign(
      approval,
      check(voteMessage(missionId, input as unknown as VoteInput), input.attestation, 'approval', approval.at, input),
    );
    if (approval.result === 'accepted' && approval.signature !== 'valid' && approval.signature !== 'encrypted') {
      trust.problems.push(
        `mission ${missionId}, action ${approval.actionId ?? '?'}: the counted vote by ${approval.approver ?? '?'} is ${approval.signature} (${approval.signatureProblem})`,
      );
    }
  }
  for (const applied of s.appliedControls ?? []) {
    const signal = s.controlSignals.find((c) => c.kind === applied.kind && c.input.controlId === applied.controlId);
    const control: ReportControl = {
      at: str(applied.at),
      kind: str(applied.kind),
      by: str(applied.by),
      reason: str(applied.reason),
      ...(signal
        ? check(
            controlMessage(missionId, applied.kind as ControlKind, signal.input as unknown as ControlInput),
            signal.input.attestation,
            'control',
            signal.at,
            signal.input,
          )
        : { signature: 'absent' as const, signatureProblem: 'no such control message in the history' }),
    };
    trust.controls.push(control);
    if (control.signature !== 'valid' && control.signature !== 'encrypted') {
      trust.problems.push(
        `mission ${missionId}: the ${control.kind} by ${control.by} is ${control.signature} (${control.signatureProblem})`,
      );
    }
  }
}

/**
 * Which signalled votes counted, and which actions the gate rejected on its timeout: from what the
 * workflow settled (its result), or, for histories recorded before the result carried it, from the
 * grant's approvers and the absence of any vote.
 */
function settleVotes(s: ReportState, lastTimerAt: string | undefined): void {
  const { approvals, decision, outcome } = s.report.layers;
  const settled = s.settled;
  for (const approval of approvals.filter((a) => a.via === 'signal')) {
    const counted = settled
      ? settled.some(
          (o) =>
            o.actionId === approval.actionId &&
            o.via === 'signal' &&
            (o.approver === approval.approver || strs(o.approvers).includes(approval.approver ?? '')),
        )
      : (s.grantApprovers.get(approval.actionId ?? '') ?? []).includes(approval.approver ?? '');
    approval.result = counted ? 'accepted' : 'recorded';
  }
  for (const d of decision.filter((x) => x.outcome === 'require_approval')) {
    const timeout = settled
      ? settled.find((o) => o.actionId === d.actionId && o.via === 'timeout')
      : outcome.verdict === 'rejected' && !approvals.some((a) => a.actionId === d.actionId && a.result !== 'refused')
        ? { at: lastTimerAt }
        : undefined;
    if (!timeout) continue;
    approvals.push({
      at: str(timeout.at) ?? lastTimerAt,
      actionId: d.actionId,
      approver: 'system',
      decision: 'reject',
      reason: 'no decision before the approval deadline (fail closed)',
      via: 'timeout',
      result: 'timed out',
      signature: 'absent',
    });
  }
}

/** Checks each grant's claims against what history says the action was. */
function settleGrants(report: DecisionReport): void {
  for (const action of report.layers.action) {
    if (action.grant === undefined) continue;
    const claims = obj(obj(action.grant).claims);
    const policyVersion = report.layers.policy.find((p) => p.actionId === action.actionId)?.policyVersion;
    const expected: [string, unknown][] = [
      ['missionId', report.workflowId],
      ['actionId', action.actionId],
      ['operation', action.operation],
      ['paramsHash', action.paramsHash],
      ['policyVersion', policyVersion],
    ];
    const wrong = expected.filter(([k, v]) => claims[k] !== undefined && v !== undefined && claims[k] !== v);
    const missing = expected.filter(([k]) => claims[k] === undefined).map(([k]) => k);
    action.grantBinding = wrong.length
      ? `MISMATCH: ${wrong.map(([k]) => k).join(', ')} differ from the action`
      : `bound to this action${missing.length ? ` (claims lack ${missing.join(', ')})` : ''}`;
  }
}

function searchAttribute(attrs: Obj, name: string): string | undefined {
  const field = obj(obj(attrs.searchAttributes).indexedFields)[name] as PayloadJson | undefined;
  const decoded = field ? decodePayload(field) : undefined;
  return decoded?.ok ? str(decoded.value) : undefined;
}

function paramsHash(action: Obj): string | undefined {
  return typeof action.operation === 'string' ? actionParamsHash(action.operation, action.params ?? {}) : undefined;
}

function approvalFrom(input: Obj, via: 'update' | 'signal', at?: string): ReportApproval {
  return {
    at,
    actionId: str(input.actionId),
    approver: str(input.approver),
    decision: str(input.decision),
    ...(str(input.reason) ? { reason: str(input.reason) } : {}),
    ...(Array.isArray(input.roles) ? { roles: strs(input.roles) } : {}),
    via,
    result: 'recorded',
    signature: 'absent',
    ...(input.attestation !== undefined ? { attestation: input.attestation } : {}),
  };
}
