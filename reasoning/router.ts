import { z } from 'zod';
import type { Price } from '../config';
import { ReasoningStep } from '../core/mission';
import type { RedactionKind } from '../core/redaction';
import type { ReasoningRequest } from './provider';
import { ProviderError } from './provider';
import type { ProviderRegistry } from './registry';
import type { Boundary } from './routing';
import { allowedProviders, isInsideBoundary, prepareForProvider } from './routing';

/**
 * One reasoning step for a mission, routed: only providers allowed for the mission's data class are
 * asked, in failover order; providers outside the deployment boundary get redacted data; a reply
 * that is not a valid step is re-asked a bounded number of times with the validation error as
 * feedback, then the step fails (nothing is ever executed from unparsed output).
 */
export interface RouterDeps {
  registry: ProviderRegistry;
  boundary: Boundary;
  prices: Record<string, Price>;
  /** Re-asks after an invalid reply, per provider. */
  validationRetries: number;
}

export interface RoutedStep {
  step: ReasoningStep;
  provider: string;
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  redactions: Record<RedactionKind, number>;
  /** Providers that were down and skipped, and why. */
  failovers: { provider: string; error: string }[];
  invalidReplies: number;
}

export async function routeStep(
  deps: RouterDeps,
  request: ReasoningRequest,
  candidates: string[],
): Promise<RoutedStep> {
  const routing = allowedProviders(request.definition.dataClass, candidates, deps.boundary);
  if (routing.allowed.length === 0) {
    const why = routing.excluded.map((e) => `${e.id}: ${e.reason}`).join('; ');
    throw new ProviderError(
      `no reasoning provider may see this mission's ${request.definition.dataClass} data (${why})`,
      false,
    );
  }
  const failovers: RoutedStep['failovers'] = [];
  let retryAfterMs: number | undefined;
  for (const id of routing.allowed) {
    const provider = deps.registry.resolve(id);
    const prepared = prepareForProvider(request, isInsideBoundary(id, deps.boundary));
    const usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
    let feedback: string | undefined;
    let invalidReplies = 0;
    try {
      for (let attempt = 0; attempt <= deps.validationRetries; attempt++) {
        const reply = await provider.step({ ...prepared.request, ...(feedback ? { feedback } : {}) });
        usage.inputTokens += reply.usage.inputTokens;
        usage.outputTokens += reply.usage.outputTokens;
        const parsed = ReasoningStep.safeParse(reply.step);
        if (parsed.success) {
          usage.costUsd = cost(deps.prices[id], usage);
          return { step: parsed.data, provider: id, usage, redactions: prepared.redactions, failovers, invalidReplies };
        }
        invalidReplies++;
        feedback = z.prettifyError(parsed.error).replace(/\s+/g, ' ').slice(0, 1000);
      }
    } catch (err) {
      if (err instanceof ProviderError && err.retryable) {
        failovers.push({ provider: id, error: err.message });
        if (err.retryAfterMs !== undefined) retryAfterMs = Math.min(retryAfterMs ?? Infinity, err.retryAfterMs);
        continue;
      }
      throw err;
    }
    throw new ProviderError(
      `${id} returned no valid reasoning step in ${deps.validationRetries + 1} tries (last problem: ${feedback}); nothing was executed`,
      false,
    );
  }
  // Every allowed provider is down: retry later (Temporal's activity retry), never a provider that may not see the data.
  throw new ProviderError(
    `every allowed provider is unavailable: ${failovers.map((f) => `${f.provider}: ${f.error}`).join('; ')}`,
    true,
    {
      retryAfterMs,
    },
  );
}

function cost(price: Price | undefined, usage: { inputTokens: number; outputTokens: number }): number {
  if (!price) return 0;
  return (usage.inputTokens * price.inputPerMTokUsd + usage.outputTokens * price.outputPerMTokUsd) / 1_000_000;
}
