import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import type { Catalog } from '../catalog/catalog';
import type { Connector } from '../connectors/connector';
import type { MissionDefinition } from '../core/mission';
import type { PersonalDataMap } from '../core/personal-data';
import type { ReasoningStep } from '../core/mission';
import { JsonObject } from '../core/mission';
import { ProviderError } from '../reasoning/provider';
import { routeStep } from '../reasoning/router';
import type { Classification, RoutedStep, RouterDeps } from '../reasoning/router';
import { entryAt, parse } from './support';

export const ReasonInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  definitionVersion: z.string(),
  stepIndex: z.number().int().min(0),
  provider: z.string().optional(),
  context: JsonObject,
  history: z.array(z.object({ kind: z.string(), summary: z.string(), said: z.string().optional() })),
  /** Which operation filled each context entry (`as` → operation), so its declared personal data is known. */
  reads: z.record(z.string(), z.string()).default({}),
});

export type ReasonResult = Omit<RoutedStep, 'step'> & { step: ReasoningStep };

/**
 * The personal data each context entry holds, as declared where it was defined: the definition for
 * the input, the operation that filled each read, the last action's operation for its result.
 */
export function classify(
  definition: MissionDefinition,
  connector: Connector | undefined,
  context: Record<string, unknown>,
  reads: Record<string, string>,
): Classification {
  const declaredBy = (operation: unknown): PersonalDataMap =>
    (typeof operation === 'string' && connector && Object.hasOwn(connector.operations, operation)
      ? connector.operations[operation].personalData
      : undefined) ?? {};
  const classification: Classification = { input: definition.inputPersonalData ?? {} };
  for (const [as, operation] of Object.entries(reads)) classification[as] = declaredBy(operation);
  const last = context.lastAction as { operation?: unknown } | undefined;
  const ofResult = Object.entries(declaredBy(last?.operation)).map(([path, kind]) => [`result.${path}`, kind]);
  if (ofResult.length) classification.lastAction = Object.fromEntries(ofResult);
  return classification;
}

/**
 * One reasoning step, routed by data class, pseudonymised outside the boundary (with the params it
 * proposes mapped back in the worker), validated before the workflow sees it.
 */
export function reasonActivity(catalog: Catalog, reasoning: RouterDeps, connectors: Record<string, Connector> = {}) {
  return async function reason(raw: z.input<typeof ReasonInput>): Promise<ReasonResult> {
    const input = parse(ReasonInput, raw, 'reason');
    const entry = entryAt(catalog, input.missionType, input.definitionVersion);
    const { reasoning: settings } = entry.definition;
    const candidates = [input.provider ?? settings.provider, ...settings.failover];
    const connector = Object.hasOwn(connectors, entry.definition.integration)
      ? connectors[entry.definition.integration]
      : undefined;
    const { reads, ...request } = input;
    try {
      return await routeStep(
        { ...reasoning, validationRetries: settings.validationRetries },
        { ...request, definition: entry.definition, playbook: entry.playbook },
        candidates,
        classify(entry.definition, connector, input.context, reads),
      );
    } catch (err) {
      if (err instanceof ProviderError) {
        throw ApplicationFailure.create({
          type: err.retryable ? 'ProviderUnavailable' : 'ProviderError',
          nonRetryable: !err.retryable,
          message: err.message,
          ...(err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
        });
      }
      throw err;
    }
  };
}
