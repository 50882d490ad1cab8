import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import type { Catalog } from '../catalog/catalog';
import type { ReasoningStep } from '../core/mission';
import { JsonObject } from '../core/mission';
import { ProviderError } from '../reasoning/provider';
import { routeStep } from '../reasoning/router';
import type { RoutedStep, RouterDeps } from '../reasoning/router';
import { entryAt, parse } from './support';

export const ReasonInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  definitionVersion: z.string(),
  stepIndex: z.number().int().min(0),
  provider: z.string().optional(),
  context: JsonObject,
  history: z.array(z.object({ kind: z.string(), summary: z.string() })),
});

export type ReasonResult = Omit<RoutedStep, 'step'> & { step: ReasoningStep };

/** One reasoning step, routed by data class, redacted outside the boundary, validated before the workflow sees it. */
export function reasonActivity(catalog: Catalog, reasoning: RouterDeps) {
  return async function reason(raw: z.input<typeof ReasonInput>): Promise<ReasonResult> {
    const input = parse(ReasonInput, raw, 'reason');
    const entry = entryAt(catalog, input.missionType, input.definitionVersion);
    const { reasoning: settings } = entry.definition;
    const candidates = [input.provider ?? settings.provider, ...settings.failover];
    try {
      return await routeStep(
        { ...reasoning, validationRetries: settings.validationRetries },
        { ...input, definition: entry.definition, playbook: entry.playbook },
        candidates,
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
