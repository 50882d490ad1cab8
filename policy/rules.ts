import { hashJson } from '../core/hash';
import type { PolicyDecision, ProposedAction } from '../contract/mission';
import type { MissionDefinition } from '../core/mission';

/**
 * The definition's built-in decision table: first matching rule wins, deny rules are listed before
 * approval rules, and an action no rule matches — or an operation the mission does not declare —
 * is denied (fail closed). Cedar policies replace this table behind the same `PolicyDecision`.
 */
export function decideByRules(definition: MissionDefinition, action: ProposedAction): PolicyDecision {
  const rules = definition.decision.engine === 'rules' ? definition.decision.rules : [];
  const policyVersion = hashJson(rules);
  if (!definition.operations.includes(action.operation)) {
    return deny(policyVersion, `operation ${action.operation} is not one this mission may perform`);
  }
  // Deny rules first, whatever their position: forbid wins.
  const ordered = [...rules].sort((a, b) => Number(b.outcome === 'deny') - Number(a.outcome === 'deny'));
  for (const rule of ordered) {
    if (rule.operation !== action.operation) continue;
    if (rule.when) {
      const value = action.params[rule.when.param];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return deny(policyVersion, `param ${rule.when.param} must be a number for rule ${rule.id}`);
      }
      if (rule.when.gt !== undefined && !(value > rule.when.gt)) continue;
      if (rule.when.lte !== undefined && !(value <= rule.when.lte)) continue;
    }
    return {
      outcome: rule.outcome,
      ...(rule.outcome === 'require_approval' ? { tier: rule.tier ?? 'default' } : {}),
      ruleIds: [rule.id],
      reasons: [rule.reason],
      policyVersion,
      errors: [],
    };
  }
  return deny(policyVersion, `no rule allows ${action.operation} with these params: default deny`);
}

function deny(policyVersion: string, reason: string): PolicyDecision {
  return { outcome: 'deny', ruleIds: [], reasons: [reason], policyVersion, errors: [] };
}
