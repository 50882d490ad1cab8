import { actionParamsHash } from '../../core/grant';
import type { HistoryEventJson, HistoryJson } from './history';
import { attributesOf, firstPayload, shortType } from './history';

/**
 * The decision report: a mission's path in six layers (inputs, policy, decision, approvals, action,
 * outcome), derived from the event history alone — activity inputs and results, Update and Signal
 * inputs, timers and the close event. Parsing is defensive: the workflow evolves (Cedar decisions,
 * approval ladders, grants, kill switch), so unknown activities, messages and fields are listed in
 * `notes`, never fatal. Approval signatures are filled in later by the verifier (`signature`).
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
export type SignatureStatus = 'absent' | 'valid' | 'invalid' | 'not checked (no approvals verifier key configured)';
export interface ReportApproval {
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
  signature: SignatureStatus;
  attestation?: unknown;
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
  notes: ReportNote[];
}

const KNOWN_ACTIVITIES = new Set(['loadMission', 'reason', 'readData', 'decideAction', 'executeAction']);
/** Activities that are part of the mission but carry nothing the six layers need. */
const UNREPORTED_ACTIVITIES = new Set(['notifyApprovers']);
const APPROVAL_MESSAGES = new Set(['decide', 'decideSignal']);
const CLOSE_TYPES: Record<string, string> = {
  WORKFLOW_EXECUTION_COMPLETED: 'completed',
  WORKFLOW_EXECUTION_FAILED: 'failed',
  WORKFLOW_EXECUTION_TIMED_OUT: 'timed out',
  WORKFLOW_EXECUTION_CANCELED: 'canceled',
  WORKFLOW_EXECUTION_TERMINATED: 'terminated',
  WORKFLOW_EXECUTION_CONTINUED_AS_NEW: 'continued as new',
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Builds the decision report of one run from its history (JSON format) alone. */
export function buildDecisionReport(history: HistoryJson): DecisionReport {
  const notes: ReportNote[] = [];
  const note = (event: HistoryEventJson, text: string) => notes.push({ eventId: String(event.eventId), note: text });
  const inputs: ReportInputs = { reads: [] };
  const policy: ReportPolicy[] = [];
  const decisions: ReportDecision[] = [];
  const approvals: ReportApproval[] = [];
  const actions: ReportAction[] = [];
  const outcome: ReportOutcome = { status: 'running' };
  const buildIds = new Set<string>();
  const policyVersions = new Set<string>();
  const scheduled = new Map<string, { type: string; input: Obj; at?: string }>();
  const updates = new Map<string, ReportApproval>();
  let pendingDecision: ReportDecision | undefined;
  let lastTimerAt: string | undefined;
  /** A grant minted by its own activity, waiting for the executeAction it authorises. */
  let pendingGrant: unknown;
  const report: DecisionReport = {
    schema: REPORT_SCHEMA,
    policyVersions: [],
    workerBuildIds: [],
    layers: { inputs, policy, decision: decisions, approvals, action: actions, outcome },
    notes,
  };

  const decode = (event: HistoryEventJson, field: unknown, what: string): unknown => {
    const decoded = firstPayload(field);
    if (decoded.ok) return decoded.value;
    note(event, `${what}: ${decoded.why}`);
    return undefined;
  };

  for (const event of history.events) {
    const type = shortType(event);
    const attrs = attributesOf(event);
    const at = event.eventTime;
    switch (type) {
      case 'WORKFLOW_EXECUTION_STARTED': {
        report.startedAt = at;
        report.workflowId = str(attrs.workflowId);
        report.runId = str(attrs.originalExecutionRunId) ?? str(attrs.firstExecutionRunId);
        report.workflowType = str(obj(attrs.workflowType).name);
        inputs.at = at;
        inputs.workflowType = report.workflowType;
        const args = obj(decode(event, attrs.input, 'workflow input'));
        inputs.missionType = str(args.missionType);
        inputs.initiator = str(args.initiator);
        inputs.input = args.input;
        report.missionType = inputs.missionType;
        if (args.carried) note(event, 'run continues an earlier run (continue-as-new): earlier steps are in that run');
        break;
      }
      case 'WORKFLOW_TASK_COMPLETED': {
        const buildId = str(obj(attrs.workerVersion).buildId) ?? str(obj(attrs.deploymentVersion).buildId);
        if (buildId) buildIds.add(buildId);
        break;
      }
      case 'ACTIVITY_TASK_SCHEDULED': {
        const name = str(obj(attrs.activityType).name) ?? '(unnamed)';
        const input = obj(decode(event, attrs.input, `${name} input`));
        scheduled.set(String(event.eventId), { type: name, input, at });
        if (name === 'executeAction') {
          const action = obj(input.action);
          actions.push({
            scheduledAt: at,
            actionId: str(action.actionId),
            operation: str(action.operation),
            paramsHash: paramsHash(action),
            approvals: input.approvals,
            ...((input.grant ?? pendingGrant) !== undefined ? { grant: input.grant ?? pendingGrant } : {}),
            status: 'pending',
          });
          pendingGrant = undefined;
        } else if (name === 'decideAction') {
          const action = obj(input.action);
          pendingDecision = {
            proposedAt: at,
            actionId: str(action.actionId),
            operation: str(action.operation),
            params: action.params,
            paramsHash: paramsHash(action),
            rationale: str(action.rationale),
          };
        } else if (!KNOWN_ACTIVITIES.has(name) && !UNREPORTED_ACTIVITIES.has(name) && !/grant/i.test(name)) {
          note(event, `activity ${name} is not interpreted by this report version`);
        }
        break;
      }
      case 'ACTIVITY_TASK_COMPLETED': {
        const origin = scheduled.get(String(attrs.scheduledEventId));
        if (!origin) {
          note(event, `completion of unknown activity (scheduled event ${String(attrs.scheduledEventId)})`);
          break;
        }
        const result = decode(event, attrs.result, `${origin.type} result`);
        onActivityResult(event, origin, result, at);
        break;
      }
      case 'ACTIVITY_TASK_FAILED':
      case 'ACTIVITY_TASK_TIMED_OUT': {
        const origin = scheduled.get(String(attrs.scheduledEventId));
        const failure = str(obj(attrs.failure).message) ?? type.toLowerCase().replace(/_/g, ' ');
        if (origin?.type === 'executeAction') {
          const action = lastPending();
          if (action) Object.assign(action, { status: 'failed', failure, completedAt: at });
        }
        note(event, `activity ${origin?.type ?? '?'} failed: ${failure}`);
        break;
      }
      case 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED': {
        const request = obj(attrs.acceptedRequest);
        const input = obj(request.input);
        const name = str(input.name) ?? '';
        if (!APPROVAL_MESSAGES.has(name)) {
          note(event, `update ${name} is not interpreted by this report version`);
          break;
        }
        const approval = approvalFrom(obj(decode(event, input.args, `update ${name} input`)), 'update', at);
        approval.result = 'recorded';
        approvals.push(approval);
        updates.set(str(obj(request.meta).updateId) ?? String(event.eventId), approval);
        break;
      }
      case 'WORKFLOW_EXECUTION_UPDATE_COMPLETED': {
        const approval = updates.get(str(obj(attrs.meta).updateId) ?? '');
        if (!approval) break;
        const result = obj(attrs.outcome);
        if (result.failure) {
          approval.result = 'refused';
          approval.refusal = str(obj(result.failure).message);
        } else {
          approval.result = 'accepted';
        }
        break;
      }
      case 'WORKFLOW_EXECUTION_SIGNALED': {
        const name = str(attrs.signalName) ?? '';
        if (!APPROVAL_MESSAGES.has(name)) {
          note(event, `signal ${name} is not interpreted by this report version`);
          break;
        }
        approvals.push(approvalFrom(obj(decode(event, attrs.input, `signal ${name} input`)), 'signal', at));
        break;
      }
      case 'TIMER_FIRED':
        lastTimerAt = at;
        break;
      default:
        if (CLOSE_TYPES[type]) onClose(event, type, attrs, at);
    }
  }
  report.policyVersions = [...policyVersions];
  report.workerBuildIds = [...buildIds];
  settleSignals();
  settleTimeout();
  settleGrants();
  return report;

  function onActivityResult(
    event: HistoryEventJson,
    origin: { type: string; input: Obj },
    result: unknown,
    at?: string,
  ) {
    const r = obj(result);
    switch (origin.type) {
      case 'loadMission':
        inputs.definitionVersion = str(r.definitionVersion);
        inputs.definitionTitle = str(obj(r.definition).title);
        report.definitionVersion = inputs.definitionVersion;
        break;
      case 'readData':
        inputs.reads.push({
          at,
          operation: str(origin.input.operation),
          params: origin.input.params,
          ok: r.ok === true,
          ...(r.ok === true ? {} : { refused: str(r.refused) }),
        });
        break;
      case 'decideAction': {
        const { outcome: decided, tier, ruleIds, reasons, policyVersion, ...extra } = r;
        const decision = pendingDecision ?? {};
        pendingDecision = undefined;
        decisions.push({ ...decision, decidedAt: at, outcome: str(decided), tier: str(tier) });
        policy.push({
          at,
          actionId: decision.actionId,
          policyVersion: str(policyVersion),
          ruleIds: strs(ruleIds),
          reasons: strs(reasons),
          ...(Object.keys(extra).length ? { extra } : {}),
        });
        if (typeof policyVersion === 'string') policyVersions.add(policyVersion);
        break;
      }
      case 'executeAction': {
        const action = lastPending();
        if (action) Object.assign(action, { status: 'executed', result: r.result ?? result, completedAt: at });
        if (r.grant !== undefined && action) action.grant = r.grant;
        break;
      }
      case 'reason':
        break;
      default:
        // A grant activity runs just before the executeAction it authorises.
        if (/grant/i.test(origin.type)) pendingGrant = result;
    }
  }

  function lastPending(): ReportAction | undefined {
    return [...actions].reverse().find((a) => a.status === 'pending');
  }

  function onClose(event: HistoryEventJson, type: string, attrs: Obj, at?: string) {
    report.closedAt = at;
    outcome.at = at;
    outcome.status = CLOSE_TYPES[type];
    if (type === 'WORKFLOW_EXECUTION_COMPLETED') {
      const r = obj(decode(event, attrs.result, 'workflow result'));
      outcome.verdict = str(r.verdict);
      outcome.summary = str(r.summary);
      outcome.executedActions = r.executedActions;
    } else if (type === 'WORKFLOW_EXECUTION_FAILED') {
      const failure = obj(attrs.failure);
      outcome.verdict = 'failed';
      outcome.failure = str(failure.message) ?? str(obj(failure.cause).message);
    } else if (type === 'WORKFLOW_EXECUTION_TERMINATED') {
      outcome.failure = str(attrs.reason);
    }
  }

  /**
   * An approval deadline leaves no message in history, only a fired timer: when an action that needed
   * approval got no accepted approval and the mission ended rejected by the system, the last fired
   * timer is when the gate failed closed.
   */
  function settleTimeout() {
    const waiting = decisions.filter((d) => d.outcome === 'require_approval');
    const byPerson = /\bby (?!system\b)\S+/.test(outcome.summary ?? '');
    for (const d of waiting) {
      const answered = approvals.some((a) => a.actionId === d.actionId && a.result === 'accepted');
      if (answered || outcome.verdict !== 'rejected' || byPerson || !lastTimerAt) continue;
      approvals.push({
        at: lastTimerAt,
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
  function settleGrants() {
    for (const action of actions) {
      if (action.grant === undefined) continue;
      const claims = obj(obj(action.grant).claims);
      const policyVersion = policy.find((p) => p.actionId === action.actionId)?.policyVersion;
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

  /** A signalled approval counted if an executed action carries it, or the outcome names its rejection. */
  function settleSignals() {
    for (const approval of approvals.filter((a) => a.via === 'signal')) {
      const used = actions.some((a) =>
        (Array.isArray(a.approvals) ? a.approvals : []).some(
          (x: unknown) => obj(x).actionId === approval.actionId && obj(x).approver === approval.approver,
        ),
      );
      const rejected =
        approval.decision === 'reject' &&
        outcome.verdict === 'rejected' &&
        outcome.summary?.includes(`${approval.approver}`);
      approval.result = used || rejected ? 'accepted' : 'recorded';
    }
  }
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
    signature: input.attestation === undefined ? 'absent' : 'not checked (no approvals verifier key configured)',
    ...(input.attestation !== undefined ? { attestation: input.attestation } : {}),
  };
}

/** The approval inputs exactly as recorded (for signature checks), in history order. */
export function recordedApprovalInputs(history: HistoryJson): Obj[] {
  const out: Obj[] = [];
  for (const event of history.events) {
    const type = shortType(event);
    const attrs = attributesOf(event);
    if (type === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED') {
      const input = obj(obj(attrs.acceptedRequest).input);
      const decoded = firstPayload(input.args);
      if (APPROVAL_MESSAGES.has(str(input.name) ?? '') && decoded.ok) out.push(obj(decoded.value));
    } else if (type === 'WORKFLOW_EXECUTION_SIGNALED' && APPROVAL_MESSAGES.has(str(attrs.signalName) ?? '')) {
      const decoded = firstPayload(attrs.input);
      if (decoded.ok) out.push(obj(decoded.value));
    }
  }
  return out;
}
