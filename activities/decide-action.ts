import { z } from 'zod';
import type { Catalog } from '../catalog/catalog';
import type { Connector } from '../connectors/connector';
import type { BoundDecision } from '../contract/mission';
import { actionParamsHash } from '../core/grant';
import { placeholdersIn } from '../core/personal-data';
import type { DecisionService } from '../policy/decision-service';
import { decideProposal } from './decision-pipeline';
import { Action, entryAt, parse } from './support';

export const Subject = z.object({ type: z.string().min(1), id: z.string() });

export const DecideActionInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  definitionVersion: z.string(),
  initiator: z.string(),
  priorActions: z.number().int().min(0),
  action: Action,
  /** The mission's subject (from its definition and signed input); absent in missions without one. */
  subject: Subject.optional(),
});

/**
 * The policy decision for a proposed action: params schema, subject, facts from the system of record,
 * Cedar, then the connector's dry run (see decision-pipeline).
 */
export function decideActionActivity(deps: {
  catalog: Catalog;
  decisions: DecisionService;
  connectors: Record<string, Connector>;
}) {
  return async function decideAction(raw: z.input<typeof DecideActionInput>): Promise<BoundDecision> {
    const input = parse(DecideActionInput, raw, 'decideAction');
    const entry = entryAt(deps.catalog, input.missionType, input.definitionVersion);
    const { operation, params } = input.action;
    // The reasoning step mapped every pseudonym this mission issued back to its value, in the worker. One
    // still here was never issued (invented, or another mission's): nothing is decided on a placeholder.
    const stray = placeholdersIn(params);
    if (stray.length) {
      return {
        outcome: 'deny',
        ruleIds: [],
        reasons: [`params name pseudonyms this mission never issued: ${stray.join(', ')}`],
        policyVersion: deps.decisions.policyVersionOf(entry.definition),
        errors: ['unknown_pseudonym'],
        paramsHash: actionParamsHash(operation, params),
        engine: entry.definition.decision.engine,
      };
    }
    return decideProposal(deps, entry.definition, { ...input, now: new Date() });
  };
}
