import type { DataClass } from '../core/mission';
import type { RedactionKind } from '../core/redaction';
import { REDACTION_KINDS, redactJson } from '../core/redaction';
import type { ReasoningRequest } from './provider';

/**
 * Which providers may see a mission's data, and in what form. Public and internal data may go to
 * any provider; confidential and restricted data only to providers inside the deployment boundary.
 * Providers outside the boundary never see personal data: their context and history are redacted.
 */

/** Provider names (the part of `provider:model` before the colon) inside the deployment boundary. */
export type Boundary = ReadonlySet<string>;

export interface RoutingDecision {
  /** Provider ids allowed for this data class, in the caller's order of preference: the failover list. */
  allowed: string[];
  /** Every candidate left out, with the reason. */
  excluded: { id: string; reason: string }[];
}

const PUBLIC_ENOUGH: ReadonlySet<DataClass> = new Set<DataClass>(['public', 'internal']);

/** `openai:gpt-4o-mini` → `openai`. */
export const providerName = (id: string): string => (id.includes(':') ? id.slice(0, id.indexOf(':')) : id);

export const isInsideBoundary = (id: string, boundary: Boundary): boolean => boundary.has(providerName(id));

/** Filters `candidates` (in preference order, duplicates ignored) down to those allowed for `dataClass`. */
export function allowedProviders(
  dataClass: DataClass,
  candidates: readonly string[],
  boundary: Boundary,
): RoutingDecision {
  const decision: RoutingDecision = { allowed: [], excluded: [] };
  for (const id of new Set(candidates)) {
    if (PUBLIC_ENOUGH.has(dataClass) || isInsideBoundary(id, boundary)) {
      decision.allowed.push(id);
    } else {
      decision.excluded.push({
        id,
        reason: `${dataClass} data stays inside the deployment boundary and ${providerName(id)} is outside it`,
      });
    }
  }
  return decision;
}

export interface PreparedRequest {
  request: ReasoningRequest;
  /** Occurrences replaced per kind. Counts only: the redacted values are never returned. */
  redactions: Record<RedactionKind, number>;
}

const noRedactions = (): Record<RedactionKind, number> =>
  Object.fromEntries(REDACTION_KINDS.map((k) => [k, 0])) as Record<RedactionKind, number>;

/**
 * The request as a provider may see it. Inside the boundary it is unchanged; outside, the context and
 * the history go through one {@link redactJson} pass (so `[EMAIL_1]` means the same address in both).
 */
export function prepareForProvider(request: ReasoningRequest, inside: boolean): PreparedRequest {
  if (inside) return { request, redactions: noRedactions() };
  const { value, counts } = redactJson({ context: request.context, history: request.history });
  const redacted = value as Pick<ReasoningRequest, 'context' | 'history'>;
  return { request: { ...request, context: redacted.context, history: redacted.history }, redactions: counts };
}
