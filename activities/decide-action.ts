import { z } from 'zod';
import type { Catalog } from '../catalog/catalog';
import type { Connector } from '../connectors/connector';
import type { BoundDecision } from '../contract/mission';
import { actionParamsHash } from '../core/grant';
import { placeholdersIn } from '../core/personal-data';
import type { DecisionService } from '../policy/decision-service';
import { Action, entryAt, parse } from './support';

export const DecideActionInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  definitionVersion: z.string(),
  initiator: z.string(),
  priorActions: z.number().int().min(0),
  action: Action,
});

/** The policy decision for a proposed action: the connector's params schema first, then policy. */
export function decideActionActivity(deps: {
  catalog: Catalog;
  decisions: DecisionService;
  connectors: Record<string, Connector>;
}) {
  return async function decideAction(raw: z.input<typeof DecideActionInput>): Promise<BoundDecision> {
    const input = parse(DecideActionInput, raw, 'decideAction');
    const entry = entryAt(deps.catalog, input.missionType, input.definitionVersion);
    const { operation, params } = input.action;
    const deny = (reasons: string[], errors: string[] = []): BoundDecision => ({
      outcome: 'deny',
      ruleIds: [],
      reasons,
      policyVersion: deps.decisions.policyVersionOf(entry.definition),
      errors,
      paramsHash: actionParamsHash(operation, params),
      engine: entry.definition.decision.engine,
    });
    // The reasoning step mapped every pseudonym this mission issued back to its value, in the worker. One
    // still here was never issued (invented, or another mission's): nothing is decided on a placeholder.
    const stray = placeholdersIn(params);
    if (stray.length) {
      return deny([`params name pseudonyms this mission never issued: ${stray.join(', ')}`], ['unknown_pseudonym']);
    }
    // Params the connector would refuse are denied here, so the mission ends `denied` with the reason
    // instead of being granted an action that cannot run (policy sees only the attributes it declares).
    const connector = deps.connectors[entry.definition.integration];
    const spec =
      connector && Object.hasOwn(connector.operations, operation) ? connector.operations[operation] : undefined;
    const check = spec?.kind === 'write' ? spec.params.safeParse(params) : undefined;
    if (check && !check.success) {
      const problems = check.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
      return deny([`params do not satisfy ${operation}: ${problems}`]);
    }
    return deps.decisions.decide(entry.definition, { ...input, now: new Date() });
  };
}
