import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { PendingApproval } from '../contract/mission';
import { parse } from './support';

/** A notice to the approvers of a ladder step (on request and on each escalation). */
export interface ApprovalNotice {
  missionId: string;
  missionType: string;
  escalated: boolean;
  pending: PendingApproval;
}

export interface Notifier {
  notify(notice: ApprovalNotice): Promise<void>;
}

/** Default sink: one JSON line per notice in a file that people or a log shipper can follow. */
export function fileNotifier(path: string): Notifier {
  return {
    async notify(notice) {
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, `${JSON.stringify({ at: new Date().toISOString(), ...summarise(notice) })}\n`);
    },
  };
}

/** Webhook sink: POSTs the notice as JSON; a non-2xx answer fails the activity (and it retries). */
export function webhookNotifier(url: string, timeoutMs = 10_000): Notifier {
  return {
    async notify(notice) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(summarise(notice)),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`approval webhook answered HTTP ${response.status}`);
    },
  };
}

function summarise({ missionId, missionType, escalated, pending }: ApprovalNotice) {
  return {
    event: escalated ? 'approval.escalated' : 'approval.requested',
    missionId,
    missionType,
    actionId: pending.actionId,
    operation: pending.operation,
    tier: pending.tier,
    step: pending.step + 1,
    steps: pending.steps,
    roles: pending.roles,
    quorum: pending.quorum,
    deadline: pending.deadline,
  };
}

export const NotifyApproversInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  escalated: z.boolean(),
  pending: z.custom<PendingApproval>(
    (v) => typeof v === 'object' && v !== null && 'actionId' in v,
    'a pending approval',
  ),
});

/** Tells a ladder step's approvers that an action waits for them. */
export function notifyApproversActivity(notifier: Notifier) {
  return async function notifyApprovers(raw: z.input<typeof NotifyApproversInput>): Promise<void> {
    await notifier.notify(parse(NotifyApproversInput, raw, 'notifyApprovers'));
  };
}
