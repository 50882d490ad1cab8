import { upsertSearchAttributes } from '@temporalio/workflow';
import type { MissionStatus, Observation, ObservationKind } from '../contract/mission';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';

/**
 * The Explain rail: every step appends an observation; the `observations` query returns them. The
 * summary is the system's line; whatever the model wrote goes into `modelText`, apart, so no view can
 * mistake it for a system line.
 */
export class Rail {
  constructor(readonly observations: Observation[] = []) {}

  observe(kind: ObservationKind, summary: string, detail?: Record<string, unknown>, modelText?: string): void {
    this.observations.push({
      seq: this.observations.length + 1,
      at: new Date().toISOString(),
      kind,
      summary,
      ...(modelText ? { modelText } : {}),
      ...(detail ? { detail } : {}),
    });
  }
}

/** Keeps the mission's search attributes current so visibility queries list the Decision Queue. */
export function publishStatus(status: MissionStatus, approvalDeadline: Date | null = null): void {
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.missionStatus, value: status },
    { key: SEARCH_ATTRIBUTES.pendingApproval, value: status === 'awaiting_approval' },
    { key: SEARCH_ATTRIBUTES.approvalDeadline, value: approvalDeadline },
  ]);
}
