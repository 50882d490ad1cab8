import type { Client } from '@temporalio/client';
import { Catalog } from '../../catalog/catalog';
import { getMission, startMission } from '../../client/missions';
import type { Observation, MissionResult } from '../../contract/mission';
import { stateQuery } from '../../contract/messages';
import { approvalsSigner } from '../support/trust';

export const catalog = Catalog.load();

/** Starts a refund mission for `initiator`, vouched for by the test approvals key (as the service would). */
export function startRefund(client: Client, taskQueue: string, caseId: string, initiator = 'agent-desk@example.com') {
  return startMission(client, {
    catalog,
    taskQueue,
    missionType: 'customer-refund',
    input: { caseId },
    initiator,
    signer: approvalsSigner,
  });
}

/** Polls the mission's state query until the predicate holds (bounded). */
export async function waitForState(
  client: Client,
  missionId: string,
  predicate: (s: Awaited<ReturnType<typeof getState>>) => boolean,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await getState(client, missionId).catch(() => undefined);
    if (state && predicate(state)) return state;
    if (Date.now() > deadline)
      throw new Error(`mission ${missionId} did not reach the expected state: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function getState(client: Client, missionId: string) {
  return client.workflow.getHandle(missionId).query(stateQuery);
}

export const awaitingApproval = (s: { status: string; pending: unknown[] }) =>
  s.status === 'awaiting_approval' && s.pending.length > 0;

export async function result(client: Client, missionId: string): Promise<MissionResult> {
  return (await client.workflow.getHandle(missionId).result()) as MissionResult;
}

export async function observations(client: Client, missionId: string): Promise<Observation[]> {
  return (await getMission(client, missionId)).observations;
}

export function kinds(obs: Observation[]): string[] {
  return obs.map((o) => o.kind);
}
