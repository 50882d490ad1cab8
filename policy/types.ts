/**
 * Public contracts of the Cedar decision engine. Everything here is plain JSON except `PolicyBundle`,
 * which is an in-process handle: it refers to policies and a schema preparsed inside the Cedar Wasm
 * module of the process that loaded it.
 */

import type { DataClass } from '../core/mission';

export type { PolicyDecision, PolicyOutcome } from '../contract/mission';

/** Approval tiers in escalating order (later = higher), used unless a bundle is loaded with its own list. */
export const DEFAULT_APPROVAL_TIERS = ['supervisor', 'finance'] as const;

/** One proposed action, with who proposes it, for whom, on which mission and in what situation. */
export interface PolicyRequest {
  mission: { id: string; type: string; dataClass: DataClass; initiator: string };
  /** The AI agent identity, e.g. "customer-refund". */
  agent: string;
  /** The human the mission acts for: the principal is the agent *and* this human (blended identity). */
  onBehalfOf: string;
  action: { actionId: string; operation: string; params: Record<string, unknown> };
  /**
   * Facts about the situation. `now` is an ISO-8601 date-time with `Z` or an offset; `priorActions` counts
   * actions already executed in this mission. Other members become Cedar context attributes as they are.
   */
  context: { now: string; priorActions: number; amountCents?: number; [k: string]: unknown };
}

/** Input of `loadPolicyBundle`. */
export interface LoadPolicyBundleInput {
  /** Bundle name, normally the mission type, e.g. "customer-refund". */
  name: string;
  /** Text of the `.cedar` file: static policies, each annotated `@id("...")`. */
  policyText: string;
  /** Text of the Cedar schema (human-readable `.cedarschema` syntax). */
  schemaText: string;
  /** Path of the policy file, used in error messages. Defaults to `<name>.cedar`. */
  sourcePath?: string;
  /** Path of the schema file, used in error messages. Defaults to `<name>.cedarschema`. */
  schemaSourcePath?: string;
  /** Approval tiers, lowest first. Defaults to `DEFAULT_APPROVAL_TIERS`. */
  tiers?: readonly string[];
}

/** One policy of a bundle, as written in its file. */
export interface LoadedPolicy {
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  /** For permits: what a match means (`@outcome`, default "allow"). Undefined for forbids. */
  readonly outcome?: 'allow' | 'require_approval';
  /** For `require_approval` permits: the `@tier`. */
  readonly tier?: string;
  /** Optional `@reason("...")` annotation, used in decision reasons. */
  readonly reason?: string;
  /** Source text from its first annotation through the closing `;` (what the version hashes). */
  readonly text: string;
  /** 1-based line of the policy's first token in the file. */
  readonly line: number;
}

/** A loaded, strictly validated, preparsed policy set and schema. Obtain it from `loadPolicyBundle`. */
export interface PolicyBundle {
  readonly name: string;
  readonly sourcePath: string;
  readonly schemaSourcePath: string;
  readonly policyVersion: string;
  /** sha256 of the schema text (after newline normalisation). */
  readonly schemaVersion: string;
  readonly tiers: readonly string[];
  /** In file order. */
  readonly policies: readonly LoadedPolicy[];
  /** Validator warnings (the bundle loaded; these deserve a look). */
  readonly warnings: readonly string[];
}

/** Where and why a bundle failed to load. */
export interface PolicyLoadIssue {
  file: string;
  line?: number;
  column?: number;
  policyId?: string;
  message: string;
}

/** Thrown by `loadPolicyBundle`; the message lists every issue as `file:line:column: message`. */
export class PolicyLoadError extends Error {
  override readonly name = 'PolicyLoadError';

  constructor(
    readonly bundleName: string,
    readonly issues: readonly PolicyLoadIssue[],
  ) {
    super(issues.map(formatIssue).join('\n'));
  }
}

/** `file:line:column: message` (line and column when known). */
export function formatIssue(issue: PolicyLoadIssue): string {
  const where = [issue.file, issue.line, issue.line === undefined ? undefined : issue.column]
    .filter((part) => part !== undefined)
    .join(':');
  return `${where}: ${issue.message}`;
}
