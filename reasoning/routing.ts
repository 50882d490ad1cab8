import type { DataClass } from '../core/mission';
import type { PersonalDataMap, PseudonymCounts } from '../core/personal-data';
import { mapDeclared, zeroCounts } from '../core/personal-data';
import type { Redactor } from '../core/redaction';
import { createRedactor, redactWith } from '../core/redaction';
import type { ReasoningRequest } from './provider';
import type { MissionPseudonyms } from './pseudonyms';
import { pseudonymKindOf } from './pseudonyms';

/**
 * Which providers may see a mission's data, and in what form. Public and internal data may go to
 * any provider; confidential and restricted data only to providers inside the deployment boundary.
 * Providers outside the boundary never see personal data: declared fields are pseudonymised whole,
 * everything else goes through the detector.
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

/** How to pseudonymise one mission's request: its pseudonyms and, per context entry, the declared fields. */
export interface Privacy {
  pseudonyms: MissionPseudonyms;
  /** Context entry name (`input`, a read's `as`, `lastAction`) → the personal data its fields hold. */
  classification: Record<string, PersonalDataMap>;
}

export interface PreparedRequest {
  request: ReasoningRequest;
  /** Occurrences replaced per kind. Counts only: the values never leave the worker. */
  redactions: PseudonymCounts;
}

const addCounts = (a: PseudonymCounts, b: PseudonymCounts): PseudonymCounts =>
  Object.fromEntries(Object.entries(a).map(([k, n]) => [k, n + b[k as keyof PseudonymCounts]])) as PseudonymCounts;

/**
 * The request as a provider may see it. Inside the boundary it is unchanged. Outside, every declared
 * field of the context becomes its pseudonym; every other string (free text, undeclared fields, object
 * keys, the history) goes through the detector, which also knows the declared values, so "Jane Doe"
 * in a case note becomes the same pseudonym as the customer's declared name.
 */
export function prepareForProvider(request: ReasoningRequest, inside: boolean, privacy: Privacy): PreparedRequest {
  if (inside) return { request, redactions: zeroCounts() };
  const { pseudonyms, classification } = privacy;
  const declared = zeroCounts();
  const declaredIn = (name: string): PersonalDataMap =>
    Object.hasOwn(classification, name) ? classification[name] : {};
  // First every declared value, so the detector knows them all before it reads any free text.
  const pseudonymise = (leaf: unknown, kind: keyof typeof declared | 'free_text', redactor?: Redactor): unknown => {
    if (kind === 'free_text') return redactor ? redactText(redactor, leaf) : leaf;
    if (leaf === null || leaf === undefined || typeof leaf === 'boolean' || String(leaf).trim() === '') return leaf;
    const as = pseudonymKindOf(kind as Parameters<typeof pseudonymKindOf>[0], String(leaf));
    if (redactor) declared[as]++;
    return pseudonyms.declare(as, String(leaf));
  };
  for (const [name, value] of Object.entries(request.context)) {
    mapDeclared(value, {
      declared: declaredIn(name),
      visit: (leaf, kind) => pseudonymise(leaf, kind),
      undeclared: (leaf) => leaf,
    });
  }
  const redactor = createRedactor({
    known: pseudonyms.known,
    phoneRegions: pseudonyms.phoneRegions,
    placeholder: (kind, value, raw) => pseudonyms.pseudonym(kind, raw, value),
  });
  const context = Object.fromEntries(
    Object.entries(request.context).map(([name, value]) => [
      redactor.apply(name),
      mapDeclared(value, {
        declared: declaredIn(name),
        visit: (leaf, kind) => pseudonymise(leaf, kind, redactor),
        undeclared: (leaf) => redactWith(redactor, leaf),
        key: (key) => redactor.apply(key),
      }),
    ]),
  );
  const history = request.history.map((h) => ({
    kind: h.kind,
    summary: redactor.apply(h.summary),
    ...(h.said !== undefined ? { said: redactor.apply(h.said) } : {}),
  }));
  return { request: { ...request, context, history }, redactions: addCounts(declared, redactor.counts) };
}

const redactText = (redactor: Redactor, leaf: unknown): unknown =>
  typeof leaf === 'string' ? redactor.apply(leaf) : leaf;
