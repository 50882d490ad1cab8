import { ApplicationFailure, log } from '@temporalio/activity';
import { z } from 'zod';
import type { Catalog } from '../catalog/catalog';
import type { Connector } from '../connectors/connector';
import { ConnectorError, runWrite } from '../connectors/connector';
import { placeholdersIn } from '../core/personal-data';
import type { DecisionService } from '../policy/decision-service';
import type { MissionDefinition } from '../core/mission';
import { stillHolds } from './decision-pipeline';
import type { ActivityDeps, GrantKeys } from './deps';
import { Action, catalogEntry, connectorFor, parse } from './support';

export const ExecuteActionInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  /** The connector the definition names (the field is `integration` in definitions and history). */
  integration: z.string(),
  action: Action,
  grant: z.unknown(),
  /**
   * What the decision was made for: policy is asked again with the facts as they are inside the effect's
   * transaction, and the action is refused if they no longer support the grant (absent in early histories).
   */
  recheck: z
    .object({
      initiator: z.string(),
      priorActions: z.number().int().min(0),
      /** The tier people approved, when the action needed approval. */
      approvedTier: z.string().optional(),
    })
    .optional(),
});

/** Connector refusals that mean "the system of record says no", as against a broken grant or a bug. */
const REFUSALS = new Set(['refused', 'not_found', 'invalid_params', 'outside_subject']);

/**
 * Executes an action through its connector, which acts only on a valid grant for exactly this
 * action under the mission type's current policy version; idempotent on (missionId, actionId). Inside
 * the effect's transaction the facts are loaded again and policy must still say what it said (so
 * concurrent missions cannot add up past a limit); a refusal fails the activity as `ActionRefused`,
 * which the mission records as a refused action, not a failure.
 */
export function executeActionActivity(deps: {
  catalog: Catalog;
  decisions: DecisionService;
  grants: GrantKeys;
  connectors: Record<string, Connector>;
  faults?: ActivityDeps['faults'];
  ledger?: ActivityDeps['ledger'];
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
    const now = new Date();
    const again = input.recheck;
    const ctx = {
      missionId: input.missionId,
      actionId: input.action.actionId,
      now,
      ...(again
        ? {
            recheck: (facts: Record<string, unknown>) =>
              stillHolds(
                deps.decisions.decide(definition, {
                  missionId: input.missionId,
                  initiator: again.initiator,
                  action: input.action,
                  priorActions: again.priorActions,
                  now,
                  facts,
                }),
                again.approvedTier,
                deps.decisions.tiersOf(input.missionType),
              ),
          }
        : {}),
      grant: {
        value: input.grant,
        publicKeys: deps.grants.publicKeys,
        policyVersion: deps.decisions.policyVersionOf(definition),
      },
    };
    try {
      const connector = connectorFor(deps.connectors, input.integration);
      const result = runWrite(connector, input.action.operation, input.action.params, ctx);
      // Idempotent on (mission, action): a retry after a crash between the effect and this line records it.
      recordExecuted(deps, definition, connector, input, now);
      if (deps.faults?.failAfterWriteOnce && !faultFired) {
        faultFired = true;
        throw new Error('injected fault: the write committed but the worker failed before reporting it');
      }
      log.info('action executed', { missionId: input.missionId, actionId: input.action.actionId });
      return { result };
    } catch (err) {
      if (err instanceof ConnectorError) {
        throw ApplicationFailure.create({
          type:
            err.code === 'grant_refused' ? 'GrantRefused' : REFUSALS.has(err.code) ? 'ActionRefused' : 'ConnectorError',
          nonRetryable: true,
          message: err.message,
        });
      }
      throw err;
    }
  };
}

/** Writes the executed action to the action ledger, when the mission type's policy reads aggregates. */
function recordExecuted(
  deps: { ledger?: ActivityDeps['ledger'] },
  definition: MissionDefinition,
  connector: Connector,
  input: z.output<typeof ExecuteActionInput>,
  now: Date,
): void {
  if (!definition.history || !deps.ledger) return;
  const { operation, params, actionId } = input.action;
  const spec = Object.hasOwn(connector.operations, operation) ? connector.operations[operation] : undefined;
  const parsed = spec?.params.safeParse(params);
  const fact = definition.history.customerFact;
  const facts =
    fact !== undefined && spec?.facts && parsed?.success
      ? spec.facts.load(parsed.data as never, { missionId: input.missionId, actionId, now })
      : undefined;
  const customer = fact !== undefined ? facts?.[fact] : undefined;
  deps.ledger.record({
    missionId: input.missionId,
    actionId,
    missionType: input.missionType,
    initiator: input.recheck?.initiator ?? 'unknown',
    operation,
    ...(customer !== undefined ? { customer: String(customer) } : {}),
    amounts: Object.fromEntries(Object.entries(params).filter((e): e is [string, number] => typeof e[1] === 'number')),
    executedAt: now.toISOString(),
  });
}
