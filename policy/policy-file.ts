import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { issueFromCedar, lineColumn, splitPolicyText } from './source-text';
import type { LoadedPolicy, PolicyLoadIssue } from './types';

/** A policy read from its file, with where its text starts there. */
export type LocatedPolicy = LoadedPolicy & { offset: number };

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/**
 * Parses a `.cedar` file and reads each policy's annotations: `@id` (required, unique), `@outcome`
 * ("allow" by default, or "require_approval" on permits), `@tier` (required with require_approval, one of
 * `tiers`) and `@reason` (free text). Returns every problem found rather than stopping at the first.
 */
export function readPolicyFile(
  fileText: string,
  file: string,
  tiers: readonly string[],
): { policies: LocatedPolicy[]; issues: PolicyLoadIssue[] } {
  const whole = { fileText, sourceText: fileText, base: 0 };
  const parse = cedar.checkParsePolicySet({ staticPolicies: fileText });
  const parseIssues = parse.type === 'failure' ? parse.errors.map((e) => issueFromCedar(e, file, whole)) : [];
  // A located error is the best report; others (e.g. "includes a template") get located policy by policy.
  if (parseIssues.some((issue) => issue.line !== undefined)) return { policies: [], issues: parseIssues };

  const issues: PolicyLoadIssue[] = [];
  const policies: LocatedPolicy[] = [];
  for (const { text, offset } of splitPolicyText(fileText)) {
    const json = cedar.policyToJson(text);
    if (json.type === 'failure') {
      issues.push(...json.errors.map((e) => issueFromCedar(e, file, { fileText, sourceText: text, base: offset })));
      continue;
    }
    const { id, outcome, tier, reason } = json.json.annotations ?? {};
    const effect = json.json.effect;
    /** Reports at the annotation the needle finds, else at the policy's start. */
    const problem = (message: string, needle?: RegExp) => {
      const at = offset + Math.max(needle ? text.search(needle) : 0, 0);
      issues.push({ file, ...lineColumn(fileText, at), policyId: id, message });
    };
    const first = policies.find((p) => p.id === id);
    if (id === undefined) problem('policy has no @id("...") annotation; every policy needs one');
    else if (!ID_PATTERN.test(id)) problem(`@id("${id}") must match ${ID_PATTERN}`, /@\s*id\b/);
    else if (first) problem(`duplicate @id("${id}"), first used on line ${first.line}`, /@\s*id\b/);

    if (effect === 'forbid' && (outcome !== undefined || tier !== undefined)) {
      problem('@outcome and @tier apply to permit policies only', /@\s*(outcome|tier)\b/);
    } else if (outcome !== undefined && outcome !== 'allow' && outcome !== 'require_approval') {
      problem(`unknown @outcome("${outcome}"); expected "allow" or "require_approval"`, /@\s*outcome\b/);
    } else if (outcome === 'require_approval' && tier === undefined) {
      problem(`@outcome("require_approval") needs a @tier(...), one of: ${tiers.join(', ')}`, /@\s*outcome\b/);
    } else if (tier !== undefined && outcome !== 'require_approval') {
      problem('@tier is only meaningful with @outcome("require_approval")', /@\s*tier\b/);
    } else if (tier !== undefined && !tiers.includes(tier)) {
      problem(`unknown @tier("${tier}"); known tiers, lowest first: ${tiers.join(', ')}`, /@\s*tier\b/);
    }
    const permitOutcome = effect === 'permit' ? ((outcome as LoadedPolicy['outcome']) ?? 'allow') : undefined;
    const { line } = lineColumn(fileText, offset);
    policies.push({ id: id ?? '', effect, outcome: permitOutcome, tier, reason, text, line, offset });
  }
  if (issues.length === 0) issues.push(...parseIssues);
  if (policies.length === 0 && issues.length === 0) issues.push({ file, message: 'the file contains no policies' });
  return { policies, issues };
}
