import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { stateQuery, VOTE_REFUSED, voteUpdate } from '../contract/messages';
import type { PendingApproval, VoteInput, VoteRefusalCode, VoteResult } from '../contract/mission';
import { VOTE_REFUSAL_CODES } from '../contract/mission';
import { alreadySettled } from '../core/votes';
import { MissionClosed, MissionNotFound, VoteRefused } from './errors';
import { listMissions, missionState } from './missions';

/** Casting votes and reading what waits for them (the Decision Queue). */

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

/** The pending action `actionId` of a mission, as its state query shows it now. */
export async function pendingAction(
  client: Client,
  missionId: string,
  actionId: string,
): Promise<PendingApproval | undefined> {
  const state = await missionState(client, missionId);
  return state.pending.find((p) => p.actionId === actionId);
}

/**
 * Sends a signed vote through the validated Update; a refusal comes back as VoteRefused with the
 * workflow's code. The vote is sent exactly as signed: its binding (params hash, policy version,
 * ladder step) is what the approver confirmed, never filled in here.
 */
export async function castVote(client: Client, missionId: string, vote: VoteInput): Promise<VoteResult> {
  const handle = client.workflow.getHandle(missionId);
  try {
    return await handle.executeUpdate(voteUpdate, { args: [vote] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw refusedBy(err);
    if (err instanceof WorkflowNotFoundError) {
      const description = await handle.describe().catch(() => undefined);
      if (!description) throw new MissionNotFound(`no mission ${missionId}`);
      const closed = `mission ${missionId} is closed (${description.status.name.toLowerCase()})`;
      const state = await handle.query(stateQuery).catch(() => undefined);
      const earlier = state?.settled.find((d) => d.actionId === vote.actionId);
      if (earlier) {
        const code = earlier.via === 'timeout' ? 'expired' : 'already_decided';
        throw new VoteRefused(code, `${alreadySettled(earlier)}; ${closed}`);
      }
      throw new MissionClosed(`${closed}: no vote can be recorded`);
    }
    throw err;
  }
}

/** The workflow's refusal as a VoteRefused: the code from the failure's details, never from its message. */
function refusedBy(err: WorkflowUpdateFailedError): VoteRefused {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === VOTE_REFUSED) {
    const code = (cause.details?.[0] as { code?: unknown } | undefined)?.code;
    const known = VOTE_REFUSAL_CODES.find((c) => c === code);
    return new VoteRefused(known ?? 'malformed', cause.message);
  }
  return new VoteRefused('malformed' satisfies VoteRefusalCode, cause?.message ?? err.message);
}
