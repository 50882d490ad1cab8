/**
 * Names recorded in workflow histories and used on the wire: workflow types and activity types.
 * They are part of every exported audit bundle, so they never change; the audit report dispatches
 * on these constants, never on prose.
 */

export const MISSION_WORKFLOW_TYPE = 'mission';
export const AUDIT_EXPORT_WORKFLOW_TYPE = 'auditExport';

/** The mission workflow's activities, one name per step. */
export const MISSION_ACTIVITIES = {
  loadMission: 'loadMission',
  reason: 'reason',
  readData: 'readData',
  /** The policy decision on a proposed action (what policy says). */
  decideAction: 'decideAction',
  mintGrant: 'mintGrant',
  notifyApprovers: 'notifyApprovers',
  executeAction: 'executeAction',
} as const;
export type MissionActivityName = keyof typeof MISSION_ACTIVITIES;

/** The audit export workflow's activities. */
export const AUDIT_ACTIVITIES = {
  awaitRunClosed: 'auditAwaitRunClosed',
  findUnexported: 'auditFindUnexported',
  exportRun: 'auditExportRun',
  checkpoint: 'auditCheckpoint',
} as const;
