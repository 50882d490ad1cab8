import { randomUUID } from 'node:crypto';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Catalog } from '../catalog/catalog';
import { observationsQuery, stateQuery } from '../contract/messages';
import type {
  Attestation,
  MissionArgs,
  MissionResult,
  MissionStateView,
  MissionStatus,
  Observation,
} from '../contract/mission';
import { MISSION_WORKFLOW_TYPE } from '../contract/names';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';
import { quote, where as and } from '../core/visibility';
import { MissionNotFound } from './errors';

/** Client-side mission operations shared by the CLI, the approvals service, the demo and the tests. */

/** Whoever vouches for the initiator: the approvals service for a signed-in person, or a break-glass key. */
export interface StartSigner {
  signStart(
    missionId: string,
    start: { missionType: string; input: unknown; initiator: string; provider?: string },
  ): Attestation;
}

export interface StartMissionOptions {
  catalog: Catalog;
  taskQueue: string;
  missionType: string;
  input: unknown;
  initiator: string;
  /** Reasoning provider (`provider:model`) instead of the definition's. */
  provider?: string;
  /** Signs the start: the mission refuses to run for an initiator no trusted key vouched for. */
  signer: StartSigner;
}

/** Validates the input against the mission definition, then starts the mission with a signed start. */
export async function startMission(client: Client, options: StartMissionOptions): Promise<string> {
  const input = options.catalog.validateInput(options.missionType, options.input);
  const missionId = `${options.missionType}-${randomUUID().slice(0, 8)}`;
  const start = {
    missionType: options.missionType,
    input,
    initiator: options.initiator,
    ...(options.provider ? { provider: options.provider } : {}),
  };
  const args: MissionArgs = { ...start, attestation: options.signer.signStart(missionId, start) };
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

/** Missions, newest first, from a visibility query (optionally narrowed by more clauses). */
export async function listMissions(
  client: Client,
  options: { where?: string; limit?: number } = {},
): Promise<MissionSummary[]> {
  const query = and(`WorkflowType = ${quote(MISSION_WORKFLOW_TYPE)}`, options.where);
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

/** The mission's state query (the approval gate, status, verdict). */
export function missionState(client: Client, missionId: string): Promise<MissionStateView> {
  return patientQuery(() => client.workflow.getHandle(missionId).query(stateQuery));
}

/**
 * A query waits for a worker to replay the mission; on a busy worker the server can time it out
 * before any worker took it. Such a query is asked again (three times at most).
 */
export async function patientQuery<T>(ask: () => Promise<T>): Promise<T> {
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
