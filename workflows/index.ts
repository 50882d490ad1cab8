/** Workflow bundle entry: every workflow type the mission worker registers. */
export { mission } from './mission';
export { bareActivities } from './bench';
export { auditExport } from './audit-export';
