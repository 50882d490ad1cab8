import { randomUUID } from 'node:crypto';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, TypedSearchAttributes } from '@temporalio/common';
import type { ApprovalDecisionInput, PendingApproval } from '../approval';
import { alreadyDecided } from '../approval';
import type { Catalog } from '../catalog';
import type { MissionStatus, Observation } from '../mission';
import type { DecideResult, MissionArgs, MissionResult, MissionStateView } from '../../workflows/definitions';
import type { ControlInput } from '../../workflows/definitions';
import {
  haltSignal,
  pauseSignal,
  resumeSignal,
  decideUpdate,
  MISSION_WORKFLOW_TYPE,
  observationsQuery,
  SEARCH_ATTRIBUTES,
  stateQuery,
} from '../../workflows/definitions';

/**
 * Client-side mission operations shared by the CLI, the approvals service, the demo and the tests.
 * Errors are typed so each caller can say what went wrong in its own words.
 */

export class MissionNotFound extends Error {
  override name = 'MissionNotFound';
}
export class DecisionRefused extends Error {
  override name = 'DecisionRefused';
}
export class MissionClosed extends Error {
  override name = 'MissionClosed';
}

export interface StartMissionOptions {
  catalog: Catalog;
  taskQueue: string;
  missionType: string;
  input: unknown;
  initiator: string;
  /** Reasoning provider (`provider:model`) instead of the definition's. */
  provider?: string;
}

/** Validates the input against the mission definition, then starts the mission. */
export async function startMission(client: Client, options: StartMissionOptions): Promise<string> {
  const input = options.catalog.validateInput(options.missionType, options.input);
  const missionId = `${options.missionType}-${randomUUID().slice(0, 8)}`;
  const args: MissionArgs = {
    missionType: options.missionType,
    input,
    initiator: options.initiator,
    ...(options.provider ? { provider: options.provider } : {}),
  };
  await client.workflow.start(MISSION_WORKFLOW_TYPE, {
    workflowId: missionId,
    taskQueue: options.taskQueue,
    args: [args],
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SEARCH_ATTRIBUTES.missionType, value: options.missionType },
      { key: SEARCH_ATTRIBUTES.missionStatus, value: 'running' },
    ]),
  });
  return missionId;
}

export interface MissionSummary {
  missionId: string;
  missionType?: string;
  status?: MissionStatus;
  execution: string;
  startTime: string;
  closeTime?: string;
  approvalDeadline?: string;
}

function summarise(
  d: Pick<WorkflowExecutionDescription, 'workflowId' | 'status' | 'startTime' | 'closeTime' | 'typedSearchAttributes'>,
): MissionSummary {
  const sa = d.typedSearchAttributes;
  const deadline = sa.get(SEARCH_ATTRIBUTES.approvalDeadline);
  return {
    missionId: d.workflowId,
    missionType: sa.get(SEARCH_ATTRIBUTES.missionType),
    status: sa.get(SEARCH_ATTRIBUTES.missionStatus) as MissionStatus | undefined,
    execution: d.status.name,
    startTime: d.startTime.toISOString(),
    closeTime: d.closeTime?.toISOString(),
    approvalDeadline: deadline?.toISOString(),
  };
}

/** Missions, newest first, from a visibility query (optionally narrowed). */
export async function listMissions(
  client: Client,
  options: { where?: string; limit?: number } = {},
): Promise<MissionSummary[]> {
  const query = `WorkflowType = '${MISSION_WORKFLOW_TYPE}'${options.where ? ` AND ${options.where}` : ''}`;
  const out: MissionSummary[] = [];
  for await (const execution of client.workflow.list({ query })) {
    out.push(summarise(execution));
    if (out.length >= (options.limit ?? 100)) break;
  }
  return out;
}

export interface MissionDetail {
  summary: MissionSummary;
  state: MissionStateView;
  observations: Observation[];
  result?: MissionResult;
  failure?: string;
}

/** Status, state and the Explain rail of one mission (needs a worker to answer the queries). */
export async function getMission(client: Client, missionId: string): Promise<MissionDetail> {
  const handle = client.workflow.getHandle(missionId);
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new MissionNotFound(`no mission ${missionId}`);
    throw err;
  }
  const [state, observations] = await Promise.all([
    patientQuery(() => handle.query(stateQuery)),
    patientQuery(() => handle.query(observationsQuery)),
  ]);
  const detail: MissionDetail = { summary: summarise(description), state, observations };
  if (description.status.name === 'COMPLETED') detail.result = (await handle.result()) as MissionResult;
  if (description.status.name === 'FAILED') {
    detail.failure = await handle.result().then(
      () => undefined,
      (err: Error) => (err.cause as Error | undefined)?.message ?? err.message,
    );
  }
  return detail;
}

export interface PendingItem extends PendingApproval {
  missionId: string;
  missionType: string;
  initiator: string;
}

/** The Decision Queue: every action waiting for approval, soonest deadline first. */
export async function listPendingApprovals(client: Client): Promise<PendingItem[]> {
  const waiting = await listMissions(client, {
    where: `PendingApproval = true AND ExecutionStatus = 'Running'`,
    limit: 500,
  });
  const items: PendingItem[] = [];
  await Promise.all(
    waiting.map(async (m) => {
      const state = await client.workflow
        .getHandle(m.missionId)
        .query(stateQuery)
        .catch(() => undefined);
      for (const p of state?.pending ?? []) {
        items.push({ ...p, missionId: m.missionId, missionType: state!.missionType, initiator: state!.initiator });
      }
    }),
  );
  return items.sort((a, b) => a.deadline.localeCompare(b.deadline));
}

/**
 * Sends an approval decision through the validated Update; refusals come back as DecisionRefused.
 * A decision without `paramsHash`/`policyVersion` is bound to the pending action as the mission
 * shows it now (the caller should have shown the approver that action: see `pendingAction`).
 */
export async function decide(
  client: Client,
  missionId: string,
  decision: ApprovalDecisionInput,
): Promise<DecideResult> {
  const handle = client.workflow.getHandle(missionId);
  try {
    let bound = decision;
    if (!decision.paramsHash || !decision.policyVersion) {
      const pending = await pendingAction(client, missionId, decision.actionId).catch(() => undefined);
      if (pending) bound = { paramsHash: pending.paramsHash, policyVersion: pending.policyVersion, ...decision };
    }
    return await handle.executeUpdate(decideUpdate, { args: [bound] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause instanceof ApplicationFailure ? err.cause.message : (err.cause?.message ?? err.message);
      throw new DecisionRefused(cause);
    }
    if (err instanceof WorkflowNotFoundError) {
      const description = await handle.describe().catch(() => undefined);
      if (description) {
        const closed = `mission ${missionId} is closed (${description.status.name.toLowerCase()})`;
        const state = await handle.query(stateQuery).catch(() => undefined);
        const earlier = state?.decided.find((d) => d.actionId === decision.actionId);
        if (earlier) throw new DecisionRefused(`${alreadyDecided(earlier)}; ${closed}`);
        throw new MissionClosed(`${closed}: no decision can be recorded`);
      }
      throw new MissionNotFound(`no mission ${missionId}`);
    }
    throw err;
  }
}

/** The pending action `actionId` of a mission, as its state query shows it now. */
export async function pendingAction(
  client: Client,
  missionId: string,
  actionId: string,
): Promise<PendingApproval | undefined> {
  const state = await client.workflow.getHandle(missionId).query(stateQuery);
  return state.pending.find((p) => p.actionId === actionId);
}

/** Sends a kill-switch control (halt, pause, resume) to one mission. */
export async function control(
  client: Client,
  missionId: string,
  kind: 'halt' | 'pause' | 'resume',
  input: ControlInput,
): Promise<void> {
  const signal = { halt: haltSignal, pause: pauseSignal, resume: resumeSignal }[kind];
  try {
    await client.workflow.getHandle(missionId).signal(signal, input);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new MissionNotFound(`no running mission ${missionId}`);
    throw err;
  }
}

/** Halts every running mission (optionally of one type, or on one task queue); returns the ids it signalled. */
export async function haltAll(
  client: Client,
  input: ControlInput,
  missionType?: string,
  taskQueue?: string,
): Promise<string[]> {
  const quote = (v: string) => `'${v.replace(/'/g, '')}'`;
  const where = [
    `ExecutionStatus = 'Running'`,
    ...(missionType ? [`MissionType = ${quote(missionType)}`] : []),
    ...(taskQueue ? [`TaskQueue = ${quote(taskQueue)}`] : []),
  ].join(' AND ');
  const running = await listMissions(client, { where, limit: 10_000 });
  const halted: string[] = [];
  await Promise.all(
    running.map(async (m) => {
      try {
        await control(client, m.missionId, 'halt', input);
        halted.push(m.missionId);
      } catch (err) {
        if (!(err instanceof MissionNotFound)) throw err;
      }
    }),
  );
  return halted.sort();
}

/**
 * A query waits for a worker to replay the mission; on a busy worker the server can time it out
 * before any worker took it. Such a query is asked again (three times at most).
 */
async function patientQuery<T>(ask: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ask();
    } catch (err) {
      const timedOut = /DEADLINE_EXCEEDED|query timed out/.test(
        `${(err as Error).message} ${(err as Error).cause ?? ''}`,
      );
      if (!timedOut || attempt >= 3) throw err;
    }
  }
}
