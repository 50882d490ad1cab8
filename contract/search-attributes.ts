import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The mission's search attributes, kept current by the workflow so visibility queries list the
 * Decision Queue. They are stored in plaintext by the cluster: keep them free of personal data.
 */
export const SEARCH_ATTRIBUTES = {
  missionType: defineSearchAttributeKey('MissionType', SearchAttributeType.KEYWORD),
  missionStatus: defineSearchAttributeKey('MissionStatus', SearchAttributeType.KEYWORD),
  pendingApproval: defineSearchAttributeKey('PendingApproval', SearchAttributeType.BOOL),
  approvalDeadline: defineSearchAttributeKey('ApprovalDeadline', SearchAttributeType.DATETIME),
  tokens: defineSearchAttributeKey('MissionTokens', SearchAttributeType.INT),
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
