import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The mission's search attributes, kept current by the workflow so visibility queries list the
 * Decision Queue. The payload codec does not touch them: the cluster stores and indexes them in
 * plaintext, and anyone who can list workflows reads them. Each exposes only the value noted; keep
 * any new one free of personal data and mission content (README, "Encryption").
 */
export const SEARCH_ATTRIBUTES = {
  /** The catalog type, e.g. `customer-refund`. */
  missionType: defineSearchAttributeKey('MissionType', SearchAttributeType.KEYWORD),
  /** `running`, `awaiting_approval`, `paused`, or the verdict. */
  missionStatus: defineSearchAttributeKey('MissionStatus', SearchAttributeType.KEYWORD),
  /** Whether an action waits for a human. */
  pendingApproval: defineSearchAttributeKey('PendingApproval', SearchAttributeType.BOOL),
  /** When the current approval step times out. */
  approvalDeadline: defineSearchAttributeKey('ApprovalDeadline', SearchAttributeType.DATETIME),
  /** Model tokens used so far. */
  tokens: defineSearchAttributeKey('MissionTokens', SearchAttributeType.INT),
  /** Model cost so far, in US dollars. */
  costUsd: defineSearchAttributeKey('MissionCostUsd', SearchAttributeType.DOUBLE),
} as const;

/** The Temporal CLI's spelling of each search attribute type (`--search-attribute Name=Type`). */
const CLI_TYPES: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** `Name=Type` pairs for `temporal server start-dev --search-attribute` (and `operator search-attribute create`). */
export function searchAttributeCliArgs(): string[] {
  return Object.values(SEARCH_ATTRIBUTES).map((key) => `${key.name}=${CLI_TYPES[key.type]}`);
}
