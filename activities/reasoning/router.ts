import { z } from 'zod';
import { ReasoningStep } from '../../core/mission';
import type { RedactionKind } from '../../core/redaction';
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
export interface Price {
  inputPerMTokUsd: number;
  outputPerMTokUsd: number;
}

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

/** USD per million tokens for the default models; MANDATE_PRICES (JSON, same shape) adds or overrides. */
export const DEFAULT_PRICES: Record<string, Price> = {
  'offline:playbook': { inputPerMTokUsd: 0, outputPerMTokUsd: 0 },
  'openai:gpt-4o-mini': { inputPerMTokUsd: 0.15, outputPerMTokUsd: 0.6 },
  'anthropic:claude-haiku-4-5': { inputPerMTokUsd: 1, outputPerMTokUsd: 5 },
};

const PriceTable = z.record(
  z.string().min(1),
  z.object({ inputPerMTokUsd: z.number().min(0), outputPerMTokUsd: z.number().min(0) }).strict(),
);

/** The price table: defaults plus MANDATE_PRICES; a malformed table is a one-line error. */
export function pricesFromEnv(env: Record<string, string | undefined> = process.env): Record<string, Price> {
  if (!env.MANDATE_PRICES) return { ...DEFAULT_PRICES };
  let parsed: unknown;
  try {
    parsed = JSON.parse(env.MANDATE_PRICES);
  } catch {
    throw new ProviderError('MANDATE_PRICES is not valid JSON', false);
  }
  const table = PriceTable.safeParse(parsed);
  if (!table.success) throw new ProviderError(`MANDATE_PRICES: ${table.error.issues[0].message}`, false);
  return { ...DEFAULT_PRICES, ...table.data };
}
