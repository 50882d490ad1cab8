import type { DetectOptions } from './detectors';
import { DEFAULT_PHONE_REGIONS, detect } from './detectors';
import { normaliseValue } from './known-values';
import type { PseudonymCounts, PseudonymKind } from './personal-data';
import { PSEUDONYM_KINDS, zeroCounts } from './personal-data';

/**
 * Redaction of personal data before text leaves the deployment boundary (e.g. to an external LLM
 * provider). Pure and deterministic: the detector (`core/detectors.ts`) finds validated spans, and each
 * value becomes a placeholder. `redact` numbers them per call (`[EMAIL_1]`); the worker's per-mission
 * pseudonyms (`reasoning/pseudonyms.ts`) plug their own placeholder in through {@link createRedactor}.
 */

export { ibanValid, luhnValid } from './detectors';
export type { DetectOptions } from './detectors';
export type { KnownValue } from './known-values';

export const REDACTION_KINDS = PSEUDONYM_KINDS;
export type RedactionKind = PseudonymKind;

/** Redacted text plus how many occurrences of each kind were replaced. Original values never appear. */
export interface RedactionResult {
  text: string;
  counts: PseudonymCounts;
}

/** Chooses the placeholder for a value (normalised per kind: one address in two spellings is one value). */
export type Placeholder = (kind: PseudonymKind, value: string, raw: string) => string;

export interface Redactor {
  counts: PseudonymCounts;
  apply(text: string): string;
}

/** Numbered placeholders per kind in order of first appearance: `[EMAIL_1]`, `[CARD_2]`. */
export function numberedPlaceholders(): Placeholder {
  const issued = zeroCounts();
  const placeholders = new Map<string, string>();
  return (kind, value) => {
    const key = `${kind}\u0000${value}`;
    let p = placeholders.get(key);
    if (p === undefined) {
      p = `[${kind.toUpperCase()}_${++issued[kind]}]`;
      placeholders.set(key, p);
    }
    return p;
  };
}

/** One redaction session: every string it sees shares the placeholders and the counts. */
export function createRedactor(options: DetectOptions & { placeholder?: Placeholder } = {}): Redactor {
  const counts = zeroCounts();
  const placeholder = options.placeholder ?? numberedPlaceholders();
  const regions = options.phoneRegions ?? DEFAULT_PHONE_REGIONS;
  const apply = (text: string): string => {
    let out = '';
    let pos = 0;
    for (const h of detect(text, options)) {
      if (h.kind === null) continue;
      const raw = text.slice(h.start, h.end);
      out += text.slice(pos, h.start) + placeholder(h.kind, normaliseValue(h.kind, h.value, regions), raw);
      counts[h.kind]++;
      pos = h.end;
    }
    return out + text.slice(pos);
  };
  return { counts, apply };
}

/**
 * Replaces emails (internationalised and spelled-out ones too), phone numbers (validated by
 * libphonenumber), Luhn-valid card numbers, mod-97-valid IBANs, national ids (US SSN, UK NINO) and
 * the known values given with placeholders such as `[EMAIL_1]` or `[CARD_2]`. Within one call the same
 * value (after normalising separators and case) always gets the same placeholder. `counts` is the
 * number of occurrences replaced per kind.
 */
export function redact(text: string, options: DetectOptions = {}): RedactionResult {
  const r = createRedactor(options);
  return { text: r.apply(text), counts: r.counts };
}

/** Applies a redactor to every string of a JSON value, object keys included; other leaves are kept. */
export function redactWith(r: Redactor, value: unknown): unknown {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return r.apply(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, member]) => [r.apply(k), walk(member)]));
    }
    return v;
  };
  return walk(value);
}

/**
 * Like {@link redact} for a JSON value: every string, including object keys, is redacted with one shared
 * placeholder numbering. Non-string leaves are kept. If two keys redact to the same text, the later one wins.
 */
export function redactJson(value: unknown, options: DetectOptions = {}): { value: unknown; counts: PseudonymCounts } {
  const r = createRedactor(options);
  return { value: redactWith(r, value), counts: r.counts };
}
