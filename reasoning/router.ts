import { z } from 'zod';
import type { Price } from '../config';
import { ReasoningStep } from '../core/mission';
import type { PersonalDataMap, PseudonymCounts, PseudonymKind } from '../core/personal-data';
import type { ReasoningRequest } from './provider';
import { ProviderError } from './provider';
import type { ProviderRegistry } from './registry';
import { MissionPseudonyms } from './pseudonyms';
import type { Boundary } from './routing';
import { allowedProviders, isInsideBoundary, prepareForProvider } from './routing';

/**
 * One reasoning step for a mission, routed: only providers allowed for the mission's data class are
 * asked, in failover order; providers outside the deployment boundary get pseudonymised data, and the
 * pseudonyms in the params they propose are mapped back here, in the worker, before anything downstream
 * (validation, policy, approvers, the grant, the connector) sees them; a reply
 * that is not a valid step is re-asked a bounded number of times with the validation error as
 * feedback — whether it was not JSON at all or not a valid step — then the step fails (nothing is ever
 * executed from unparsed output).
 */
export interface RouterDeps {
  registry: ProviderRegistry;
  boundary: Boundary;
  prices: Record<string, Price>;
  /** Re-asks after an invalid reply, per provider. */
  validationRetries: number;
  /** The worker's secret for keyed pseudonyms (never leaves the worker). */
  pseudonymKey: Uint8Array;
  /** Regions whose national phone formats the detector recognises. */
  phoneRegions: readonly string[];
}

/** Declared personal data per context entry name (`input`, each read's `as`, `lastAction`). */
export type Classification = Record<string, PersonalDataMap>;

export interface RoutedStep {
  step: ReasoningStep;
  provider: string;
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  redactions: PseudonymCounts;
  /** Fields of the proposed params (or read params, or rationale) where pseudonyms were mapped back. */
  reidentified: { field: string; kinds: PseudonymKind[] }[];
  /** Providers that were down and skipped, and why. */
  failovers: { provider: string; error: string }[];
  invalidReplies: number;
}

export async function routeStep(
  deps: RouterDeps,
  request: ReasoningRequest,
  candidates: string[],
  classification: Classification = {},
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
    const inside = isInsideBoundary(id, deps.boundary);
    const pseudonyms = new MissionPseudonyms(deps.pseudonymKey, request.missionId, deps.phoneRegions);
    const prepared = prepareForProvider(request, inside, { pseudonyms, classification });
    const usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
    let feedback: string | undefined;
    let invalidReplies = 0;
    try {
      for (let attempt = 0; attempt <= deps.validationRetries; attempt++) {
        const reply = await provider.step({ ...prepared.request, ...(feedback ? { feedback } : {}) });
        usage.inputTokens += reply.usage.inputTokens;
        usage.outputTokens += reply.usage.outputTokens;
        if (reply.invalid !== undefined) {
          invalidReplies++;
          feedback = reply.invalid.replace(/\s+/g, ' ').slice(0, 1000);
          continue;
        }
        const parsed = ReasoningStep.safeParse(reply.step);
        if (parsed.success) {
          usage.costUsd = cost(deps.prices[id], usage);
          const { step, reidentified } = inside
            ? { step: parsed.data, reidentified: [] }
            : reidentify(parsed.data, pseudonyms);
          return {
            step,
            provider: id,
            usage,
            redactions: prepared.redactions,
            reidentified,
            failovers,
            invalidReplies,
          };
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

/**
 * What the model proposes acts on real values: pseudonyms in read or action params (and in the rationale
 * approvers read) are mapped back. One the mission never issued stays as written, so the read is refused
 * and the action denied downstream. The model's own observations stay pseudonymised: they go back to it.
 */
function reidentify(step: ReasoningStep, pseudonyms: MissionPseudonyms): Pick<RoutedStep, 'step' | 'reidentified'> {
  const next = step.next;
  if (next.kind !== 'read' && next.kind !== 'propose') return { step, reidentified: [] };
  const params = pseudonyms.reidentify(next.params);
  const prefix = (fields: RoutedStep['reidentified'], at: string) =>
    fields.map((f) => ({ ...f, field: f.field ? `${at}.${f.field}` : at }));
  const reidentified = prefix(params.fields, 'params');
  if (next.kind === 'read') {
    return { step: { ...step, next: { ...next, params: params.value as typeof next.params } }, reidentified };
  }
  const rationale = pseudonyms.reidentify(next.rationale);
  return {
    step: {
      ...step,
      next: { ...next, params: params.value as typeof next.params, rationale: rationale.value as string },
    },
    reidentified: [...reidentified, ...prefix(rationale.fields, 'rationale')],
  };
}

function cost(price: Price | undefined, usage: { inputTokens: number; outputTokens: number }): number {
  if (!price) return 0;
  return (usage.inputTokens * price.inputPerMTokUsd + usage.outputTokens * price.outputPerMTokUsd) / 1_000_000;
}
