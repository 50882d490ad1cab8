import { ApplicationFailure, log } from '@temporalio/activity';
import { z } from 'zod';
import type { Catalog } from '../catalog/catalog';
import type { Connector } from '../connectors/connector';
import { ConnectorError, runWrite } from '../connectors/connector';
import { placeholdersIn } from '../core/personal-data';
import type { DecisionService } from '../policy/decision-service';
import type { ActivityDeps, GrantKeys } from './deps';
import { Action, catalogEntry, connectorFor, parse } from './support';

export const ExecuteActionInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  /** The connector the definition names (the field is `integration` in definitions and history). */
  integration: z.string(),
  action: Action,
  grant: z.unknown(),
});

/**
 * Executes an action through its connector, which acts only on a valid grant for exactly this
 * action under the mission type's current policy version; idempotent on (missionId, actionId).
 */
export function executeActionActivity(deps: {
  catalog: Catalog;
  decisions: DecisionService;
  grants: GrantKeys;
  connectors: Record<string, Connector>;
  faults?: ActivityDeps['faults'];
}) {
  let faultFired = false;
  return async function executeAction(raw: z.input<typeof ExecuteActionInput>): Promise<{ result: unknown }> {
    const input = parse(ExecuteActionInput, raw, 'executeAction');
    const definition = catalogEntry(deps.catalog, input.missionType).definition;
    // Defence in depth: policy already denied such params; a placeholder is never written to a system.
    const stray = placeholdersIn(input.action.params);
    if (stray.length) {
      throw ApplicationFailure.create({
        type: 'UnknownPseudonym',
        nonRetryable: true,
        message: `${input.action.operation} refused: params name pseudonyms this mission never issued: ${stray.join(', ')}`,
      });
    }
    const ctx = {
      missionId: input.missionId,
      actionId: input.action.actionId,
      now: new Date(),
      grant: {
        value: input.grant,
        publicKeys: deps.grants.publicKeys,
        policyVersion: deps.decisions.policyVersionOf(definition),
      },
    };
    try {
      const connector = connectorFor(deps.connectors, input.integration);
      const result = runWrite(connector, input.action.operation, input.action.params, ctx);
      if (deps.faults?.failAfterWriteOnce && !faultFired) {
        faultFired = true;
        throw new Error('injected fault: the write committed but the worker failed before reporting it');
      }
      log.info('action executed', { missionId: input.missionId, actionId: input.action.actionId });
      return { result };
    } catch (err) {
      if (err instanceof ConnectorError) {
        throw ApplicationFailure.create({
          type: err.code === 'grant_refused' ? 'GrantRefused' : 'ConnectorError',
          nonRetryable: true,
          message: err.message,
        });
      }
      throw err;
    }
  };
}
