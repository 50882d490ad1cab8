/** Workflow bundle entry: every workflow type the mission worker registers. */
export { mission } from './mission';
export { auditExport } from './audit-export';
