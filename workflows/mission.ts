import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { MissionActivities } from '../activities/mission';
import type { ReasonResult } from '../activities/reason';
import { observationsQuery, stateQuery } from '../contract/messages';
import type {
  FinishClaim,
  MissionArgs,
  MissionResult,
  MissionStatus,
  MissionVerdict,
  ProposedAction,
  RefusedAction,
  TrustedSigner,
  VoteInput,
} from '../contract/mission';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';
import { boundedEvidence } from '../core/evidence';
import { startMessage, verifyAttestation } from '../core/attestation';
import type { MissionDefinition, NextStep } from '../core/mission';
import { ladderFor, subjectOf } from '../core/mission';
import type { MissionEnding } from '../core/verdict';
import { checkClaim, verdictFor } from '../core/verdict';
import { ApprovalGate } from './approval-gate';
import { Controls } from './controls';
import { exportOnClose } from './export-on-close';
import { publishStatus, Rail } from './rail';

/** Timeout and retry profiles, one proxy each. */
const LOAD = { startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } } as const;
const REASONING = {
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
} as const;
const READ = { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } } as const;
const POLICY = { startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } } as const;
// Bounded well inside a grant's lifetime (5 minutes): a retried execution still holds a valid grant.
const ACTION = {
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 6, initialInterval: '1 second', maximumInterval: '20 seconds' },
} as const;
const NOTIFY = { startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3 } } as const;

const { loadMission } = proxyActivities<MissionActivities>(LOAD);
const { reason } = proxyActivities<MissionActivities>(REASONING);
const { readData } = proxyActivities<MissionActivities>(READ);
const { decideAction, mintGrant } = proxyActivities<MissionActivities>(POLICY);
const { notifyApprovers } = proxyActivities<MissionActivities>(NOTIFY);
const { executeAction } = proxyActivities<MissionActivities>(ACTION);

type Carried = NonNullable<MissionArgs['carried']> & { definition: MissionDefinition };

/** How a mission ends, before the verdict weighs in what executed (core/verdict). */
interface Ending {
  ending: MissionEnding;
  summary: string;
  refusal?: RefusedAction;
}

/**
 * The mission workflow: one generic interpreter of a mission definition snapshot.
 * reason → read | propose → decide → (approval gate) → execute → … → finish, bounded in steps,
 * continuing as new when the history grows long.
 */
export async function mission(args: MissionArgs): Promise<MissionResult> {
  const missionId = workflowInfo().workflowId;
  const carried = args.carried as Carried | undefined;
  const rail = new Rail(carried?.observations ?? []);
  const controls = new Controls(rail, carried?.controls ?? []);
  const gate = new ApprovalGate(args.initiator, rail, controls, carried?.settled ?? {});
  let signers: TrustedSigner[] = carried?.trustedSigners ?? [];
  let initiatorKey = carried?.initiatorKey;
  const context: Record<string, unknown> = carried?.context ?? { input: args.input };
  const reads: Record<string, string> = carried?.reads ?? {};
  let status: MissionStatus = 'running';
  let definition: MissionDefinition | undefined = carried?.definition;
  let definitionVersion = carried?.definitionVersion;
  let stepIndex = carried?.stepIndex ?? 0;
  let actionCount = carried?.actionCount ?? 0;
  const usage = carried?.usage ?? { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  const executed: string[] = carried?.executedActions ?? [];
  const refused: RefusedAction[] = carried?.refused ?? [];
  let outcome:
    { verdict: MissionVerdict; summary: string; summaryBy?: 'model' | 'system'; claim?: FinishClaim } | undefined;

  gate.install();
  controls.install();
  setHandler(observationsQuery, () => rail.observations);
  setHandler(stateQuery, () => ({
    missionId,
    missionType: args.missionType,
    initiator: args.initiator,
    status,
    definitionVersion,
    pending: Object.values(gate.pending),
    settled: Object.values(gate.settled),
    paused: Boolean(controls.paused),
    halted: Boolean(controls.halted),
    ...outcome,
  }));

  const setStatus = (next: MissionStatus) => {
    status = next;
    publishStatus(next);
  };

  try {
    // Carried state is trusted only from this mission's own continue-as-new (the server sets
    // continuedFromExecutionRunId; a client starting a workflow cannot).
    if (carried && !workflowInfo().continuedFromExecutionRunId) {
      return refuseStart("carried state is accepted only from the mission's own continue-as-new");
    }
    if (!definition) {
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.missionType, value: args.missionType }]);
      setStatus('running');
      const loaded = await loadMission({ missionType: args.missionType, input: args.input });
      definition = loaded.definition;
      definitionVersion = loaded.definitionVersion;
      signers = loaded.trustedSigners;
      // The initiator is whoever a trusted key vouched for, at the time the mission was started.
      const start = verifyAttestation(
        startMessage(missionId, args),
        args.attestation,
        signers,
        'start',
        workflowInfo().startTime,
      );
      if (!start.ok) return refuseStart(`${start.code}: ${start.message}`);
      initiatorKey = { keyId: start.signer.keyId, breakGlass: start.signer.breakGlass };
      const glass = initiatorKey.breakGlass ? ' [break-glass]' : '';
      rail.observe(
        'mission',
        `${definition.title} started by ${args.initiator}${glass}; definition ${definitionVersion.slice(0, 12)}`,
        {
          missionType: args.missionType,
          definitionVersion,
          initiator: args.initiator,
          initiatorKey,
          trustedKeys: signers.map((k) => k.keyId),
          input: args.input,
        },
      );
    }
    const def = definition;
    gate.trust(signers);
    controls.trustWith({ signers, roles: def.controls.roles });
    const version = definitionVersion as string;
    let stepsThisRun = 0;

    for (;;) {
      if (controls.paused && !controls.halted) {
        setStatus('paused');
        await condition(() => !controls.paused || Boolean(controls.halted));
        if (!controls.halted) setStatus('running');
      }
      if (controls.halted) return finishHalted();
      if (stepIndex >= def.reasoning.maxSteps) {
        return end({
          ending: 'over_budget',
          summary: `step budget of ${def.reasoning.maxSteps} reasoning steps exhausted`,
        });
      }
      if (stepsThisRun >= def.limits.continueAsNewAfterSteps || workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        const next: Carried = {
          definition: def,
          definitionVersion: version,
          stepIndex,
          actionCount,
          executedActions: executed,
          refused,
          usage,
          context,
          reads,
          observations: rail.observations,
          settled: gate.settled,
          trustedSigners: signers,
          initiatorKey: initiatorKey!,
          controls: controls.applied,
        };
        return await continueAsNew<typeof mission>({ ...args, carried: next });
      }
      const history = rail.observations.map(({ kind, summary, modelText }) => ({
        kind,
        summary,
        ...(modelText ? { said: modelText } : {}),
      }));
      const reply = await reason({
        missionId,
        missionType: args.missionType,
        definitionVersion: version,
        stepIndex,
        context,
        history,
        reads,
        ...(args.provider ? { provider: args.provider } : {}),
      });
      const { step } = reply;
      stepIndex++;
      stepsThisRun++;
      usage.inputTokens += reply.usage.inputTokens;
      usage.outputTokens += reply.usage.outputTokens;
      usage.costUsd += reply.usage.costUsd;
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.tokens, value: usage.inputTokens + usage.outputTokens },
        { key: SEARCH_ATTRIBUTES.costUsd, value: usage.costUsd },
      ]);
      const redacted = Object.values(reply.redactions).reduce((sum, n) => sum + n, 0);
      const nextLine = step.next.kind === 'finish' ? 'finish' : `${step.next.kind} ${step.next.operation}`;
      rail.observe(
        'reasoning',
        `step ${stepIndex} (${reply.provider}): next ${nextLine}`,
        {
          provider: reply.provider,
          usage: reply.usage,
          next: step.next.kind,
          ...(redacted ? { redactions: reply.redactions } : {}),
          ...(reply.reidentified?.length ? { reidentified: reply.reidentified } : {}),
          ...(reply.failovers.length ? { failovers: reply.failovers } : {}),
          ...(reply.invalidReplies ? { invalidReplies: reply.invalidReplies } : {}),
        },
        step.observations.join(' '),
      );
      const over = overBudget(def);
      if (over) return end({ ending: 'over_budget', summary: over });

      const next: NextStep = step.next;
      if (next.kind === 'finish') return finishClaimed(next.verdict, next.summary);
      if (next.kind === 'read') {
        const subject = subjectOf(def, args.input);
        const read = await readData({
          missionId,
          integration: def.integration,
          operation: next.operation,
          params: next.params,
          scopes: def.scopes,
          ...(subject ? { subject } : {}),
        });
        if (read.ok) {
          context[next.as] = read.result;
          reads[next.as] = next.operation;
          // The result rides along (bounded) as the evidence approvers see; observations are not commands.
          rail.observe('read', `read ${next.operation} into ${next.as}${mappedBack(reply.reidentified)}`, {
            operation: next.operation,
            params: next.params,
            result: boundedEvidence(read.result),
            ...(reply.reidentified?.length ? { reidentified: reply.reidentified } : {}),
          });
        } else {
          context[next.as] = { refused: read.refused };
          rail.observe('read_refused', `refused ${next.operation}: ${read.refused}`, {
            operation: next.operation,
            code: read.code,
          });
        }
        continue;
      }
      actionCount++;
      const action: ProposedAction = {
        actionId: `a${actionCount}`,
        operation: next.operation,
        params: next.params,
        rationale: next.rationale,
      };
      const ended = await governAndExecute(def, version, action, reply.reidentified ?? []);
      if (ended) return end(ended);
    }
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
    const message = cause?.message ?? err.message;
    rail.observe('error', message, { type: cause?.type ?? 'ActivityFailure', activity: err.activityType });
    setStatus('failed');
    outcome = { verdict: 'failed', summary: message };
    throw ApplicationFailure.create({ type: cause?.type ?? 'MissionFailed', message, nonRetryable: true });
  } finally {
    // The mission closes with a verdict (not when it continues as new): export its run now.
    if (outcome) await exportOnClose();
  }

  /** Decides, waits for approval when required, executes with a grant. Returns how the mission ends, if it must. */
  async function governAndExecute(
    def: MissionDefinition,
    version: string,
    action: ProposedAction,
    reidentified: ReasonResult['reidentified'],
  ): Promise<Ending | undefined> {
    rail.observe(
      'proposal',
      `proposes ${action.actionId}: ${action.operation}${mappedBack(reidentified)}`,
      { ...action, ...(reidentified.length ? { reidentified } : {}) },
      action.rationale,
    );
    const subject = subjectOf(def, args.input);
    const priorActions = executed.length;
    const decision = await decideAction({
      missionId,
      missionType: args.missionType,
      definitionVersion: version,
      initiator: args.initiator,
      priorActions,
      action,
      ...(subject ? { subject } : {}),
    });
    const tier = decision.tier ? ` (${decision.tier})` : '';
    rail.observe('decision', `${action.actionId}: ${decision.outcome}${tier} — ${decision.reasons.join('; ')}`, {
      actionId: action.actionId,
      ...decision,
    });
    if (decision.outcome === 'deny') {
      const reason = decision.reasons.join('; ');
      return {
        ending: 'denied',
        summary: `${decision.check ? 'refused' : 'policy denied'} ${action.actionId} ${action.operation}: ${reason}`,
        refusal: { ...refusal(action), by: decision.check ? 'check' : 'policy', reason },
      };
    }
    let approvers: string[] = [];
    let votes: VoteInput[] = [];
    if (decision.outcome === 'require_approval') {
      setStatus('awaiting_approval');
      const ladder = ladderFor(def.approval, decision.tier ?? 'default');
      const gated = await gate.await(action, decision, ladder, (pending, escalated) =>
        notifyApprovers({ missionId, missionType: args.missionType, escalated, pending }).then(
          () => undefined,
          (err: Error) =>
            rail.observe('error', `could not notify approvers: ${err.message}`, { actionId: action.actionId }),
        ),
      );
      status = controls.paused ? 'paused' : 'running';
      if (gated.kind === 'halted') return haltedOutcome();
      if (gated.record.decision !== 'approve') {
        const r = gated.record;
        const reason = `rejected by ${r.approver}: ${r.reason ?? 'no reason'}`;
        return {
          ending: 'rejected',
          summary: `${action.operation} ${reason}`,
          refusal: { ...refusal(action), by: 'approvers', reason },
        };
      }
      approvers = gated.record.approvers;
      votes = gated.votes;
    }
    // The kill switch is checked immediately before every execution.
    if (controls.paused) await condition(() => !controls.paused || Boolean(controls.halted));
    if (controls.halted) return haltedOutcome();
    const approvedTier = decision.outcome === 'require_approval' ? decision.tier : undefined;
    const grant = await refusable(action, () =>
      mintGrant({
        missionId,
        action,
        policyVersion: decision.policyVersion,
        approvers,
        votes,
        integration: def.integration,
      }),
    );
    if ('ending' in grant) return grant;
    rail.observe('grant', `grant ${grant.claims.grantId} for ${action.actionId} until ${grant.claims.expiresAt}`, {
      grantId: grant.claims.grantId,
      keyId: grant.keyId,
      paramsHash: grant.claims.paramsHash,
      approvers,
      expiresAt: grant.claims.expiresAt,
    });
    if (controls.halted) return haltedOutcome();
    const executedNow = await refusable(action, () =>
      executeAction({
        missionId,
        missionType: args.missionType,
        integration: def.integration,
        action,
        grant,
        recheck: { initiator: args.initiator, priorActions, ...(approvedTier ? { approvedTier } : {}) },
      }),
    );
    if ('ending' in executedNow) return executedNow;
    const { result } = executedNow;
    executed.push(action.actionId);
    context.lastAction = { actionId: action.actionId, operation: action.operation, status: 'executed', result };
    rail.observe('execution', `executed ${action.actionId}: ${action.operation}`, {
      actionId: action.actionId,
      result: result as Record<string, unknown>,
    });
    return undefined;
  }

  /** Names (never values) the fields where the worker mapped a provider's pseudonyms back. */
  function mappedBack(fields: ReasonResult['reidentified'] | undefined): string {
    return fields?.length ? ` (pseudonyms mapped back in ${fields.map((f) => f.field).join(', ')})` : '';
  }

  function haltedOutcome(): Ending {
    const h = controls.halted!;
    return { ending: 'halted', summary: `halted by ${h.by}: ${h.reason}` };
  }

  function refusal(action: ProposedAction): Pick<RefusedAction, 'actionId' | 'operation'> {
    return { actionId: action.actionId, operation: action.operation };
  }

  /**
   * Runs the grant or execute step; when the system of record refuses the action there (the dry run
   * before the grant, or the re-check in the effect's transaction), the action is recorded as refused
   * and the mission ends as for a denial — it is not a failure.
   */
  async function refusable<T>(action: ProposedAction, step: () => Promise<T>): Promise<T | Ending> {
    try {
      return await step();
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (!(cause instanceof ApplicationFailure) || cause.type !== 'ActionRefused') throw err;
      const reason = cause.message;
      rail.observe('action_refused', `${action.actionId} ${action.operation} refused: ${reason}`, {
        actionId: action.actionId,
        activity: (err as ActivityFailure).activityType,
        reason,
      });
      return {
        ending: 'denied',
        summary: `refused ${action.actionId} ${action.operation}: ${reason}`,
        refusal: { ...refusal(action), by: 'check', reason },
      };
    }
  }

  /** A start the mission cannot trust fails visibly, before any reasoning step. */
  function refuseStart(why: string): never {
    const message = `mission start refused: ${why}`;
    rail.observe('error', message, { type: 'StartRefused' });
    setStatus('failed');
    outcome = { verdict: 'failed', summary: message };
    throw ApplicationFailure.create({ type: 'StartRefused', message, nonRetryable: true });
  }

  function finishHalted(): MissionResult {
    return end(haltedOutcome());
  }

  function overBudget(def: MissionDefinition): string | undefined {
    const { maxTokens, maxCostUsd } = def.reasoning.budget;
    const tokens = usage.inputTokens + usage.outputTokens;
    if (maxTokens !== undefined && tokens > maxTokens) return `token budget of ${maxTokens} exceeded (${tokens} used)`;
    if (maxCostUsd !== undefined && usage.costUsd > maxCostUsd) {
      return `cost budget of $${maxCostUsd} exceeded ($${usage.costUsd.toFixed(4)} used)`;
    }
    return undefined;
  }

  /** The model finished: its verdict and summary are its claim; the verdict is the system's. */
  function finishClaimed(claimed: 'completed' | 'declined', summary: string): MissionResult {
    const claim = checkClaim(claimed, executed.length);
    return end({ ending: claimed, summary }, claim);
  }

  /** Ends the mission: the verdict from how it ended and what executed (core/verdict). */
  function end(how: Ending, claim?: FinishClaim): MissionResult {
    if (how.refusal) refused.push(how.refusal);
    const verdict = verdictFor(how.ending, executed.length);
    const summaryBy = claim ? 'model' : 'system';
    outcome = { verdict, summary: how.summary, summaryBy, ...(claim ? { claim } : {}) };
    const ran = executed.length ? `executed ${executed.join(', ')}` : 'nothing executed';
    const line = claim
      ? `${verdict}: ${ran}; the model finished "${claim.verdict}"${claim.verified ? '' : ' — claim unverified: nothing it claims was executed'}`
      : `${verdict}: ${how.summary}${executed.length ? ` (${ran})` : ''}`;
    rail.observe(
      'finish',
      line,
      {
        verdict,
        executedActions: executed,
        ...(refused.length ? { refused } : {}),
        ...(claim ? { claim } : {}),
      },
      claim ? how.summary : undefined,
    );
    setStatus(verdict);
    return {
      missionId,
      verdict,
      summary: how.summary,
      summaryBy,
      ...(claim ? { claim } : {}),
      executedActions: executed,
      refused,
      settled: Object.values(gate.settled),
      controls: controls.applied,
    };
  }
}
