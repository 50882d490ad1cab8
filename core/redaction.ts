/**
 * Redaction of personal data before text leaves the deployment boundary (e.g. to an external LLM provider).
 * Pure and deterministic: detectors find candidate spans on the original text, validators (Luhn, mod-97,
 * SSN/NINO allocation rules) discard near-misses, and each surviving value becomes a numbered placeholder.
 */

export const REDACTION_KINDS = ['email', 'phone', 'card', 'iban', 'national_id'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];

/** Redacted text plus how many occurrences of each kind were replaced. Original values never appear. */
export interface RedactionResult {
  text: string;
  counts: Record<RedactionKind, number>;
}

/** A span found by a detector; `kind: null` shields a near-miss (e.g. an IBAN with a typo) from later rules. */
interface Hit {
  start: number;
  end: number;
  kind: RedactionKind | null;
  value: string;
}
type Detector = (text: string) => Hit[];

// Digit runs must stand alone: not inside a word, not continuing another digit group ("4 1111", "ORD-2023"),
// so a later rule can never claim a fragment of a number an earlier rule rejected.
const LB = String.raw`(?<![\w@+.\-/]|\d )`;
const RB = String.raw`(?![\w@]|[ .\-/]\d)`;

const digitsOf = (s: string): string => s.replace(/\D/g, '');
const compact = (s: string): string => s.replace(/\s/g, '').toUpperCase();

/** Luhn (mod 10) check over a string of 2+ ASCII digits; anything else is invalid. */
export function luhnValid(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** IBAN lengths per ISO 13616 registry for common countries; others are not recognised. */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AT: 20, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22,
  DK: 18, EE: 20, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GI: 23, GL: 18, GR: 27, HR: 21, HU: 28, IE: 22,
  IL: 23, IS: 26, IT: 27, KW: 30, KZ: 20, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MT: 31, NL: 18, NO: 15,
  PL: 28, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SE: 24, SI: 19, SK: 24, SM: 27, TR: 26, UA: 29,
}; // prettier-ignore

/** ISO 13616 check: known country, its exact length, and mod-97 remainder 1. Spaces and case are ignored. */
export function ibanValid(s: string): boolean {
  const iban = compact(s);
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban) || IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  let rem = 0;
  for (const ch of iban.slice(4) + iban.slice(0, 4)) {
    const n = parseInt(ch, 36); // A=10 … Z=35, as the standard requires
    rem = n > 9 ? (rem * 100 + n) % 97 : (rem * 10 + n) % 97;
  }
  return rem === 1;
}

/** Runs a global regex, letting `accept` decide each match; rejected matches are retried one char later. */
function scan(re: RegExp, text: string, accept: (m: RegExpExecArray) => Hit | null): Hit[] {
  const hits: Hit[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const found = accept(m);
    if (found) hits.push(found);
    re.lastIndex = found ? found.end : m.index + 1;
  }
  return hits;
}

const hit = (m: RegExpExecArray, kind: RedactionKind | null, value: string, end = m.index + m[0].length): Hit => ({
  start: m.index,
  end,
  kind,
  value,
});

const EMAIL = /(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![A-Za-z0-9-])/g;
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}/g;
// Card layouts: compact, 4-4-4-4(-3) / 4-4-4-1..4, or Amex/Diners 4-6-5 / 4-6-4, one separator throughout. A card may
// be followed by more digits after a space ("… 1111 12/25" expiry), so its right boundary tolerates " \d".
const CARD = new RegExp(
  String.raw`${LB}(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1(?:\d{4}\1\d{1,3}|\d{1,4})|\d{4}([ -])\d{6}\2\d{4,5})(?![\w@]|[.\-/]\d)`,
  'g',
);
const SSN = new RegExp(String.raw`${LB}(\d{3})-(\d{2})-(\d{4})${RB}`, 'g');
const NINO = /(?<![A-Za-z0-9])([A-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?![A-Za-z0-9])/g;
const PHONE_INTL = new RegExp(
  String.raw`${LB}\+(?:\d{8,15}|\d{1,3}(?:[ .\-]?\(\d{1,4}\)[ .\-]?\d{1,8})?(?:[ .\-]\d{1,8}){1,6})${RB}`,
  'g',
);
const PHONE_NANP = new RegExp(String.raw`${LB}(?:1[ .\-])?(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}${RB}`, 'g');
const PHONE_EU = new RegExp(String.raw`${LB}0[1-9]\d{0,3}(?:[ .\-/]\d{2,8}){1,5}${RB}`, 'g');

/** IBANs are often followed by more capitals ("… 7654 32 REF"): take exactly the country's length, then a boundary. */
const detectIban: Detector = (text) =>
  scan(IBAN, text, (m) => {
    const length = IBAN_LENGTHS[m[0].slice(0, 2)];
    if (!length) return null;
    let taken = 0;
    let end = m.index;
    while (taken < length && end < m.index + m[0].length) if (text[end++] !== ' ') taken++;
    if (taken < length || /[A-Za-z0-9]/.test(text[end] ?? '')) return null;
    const value = compact(text.slice(m.index, end));
    return hit(m, ibanValid(value) ? 'iban' : null, value, end);
  });

const NINO_BAD_PAIRS = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);
/** HMRC allocation: no D F I Q U V as either letter, no O second, and a few reserved pairs. */
const ninoPrefixValid = (p: string): boolean => !/[DFIQUV]/.test(p) && p[1] !== 'O' && !NINO_BAD_PAIRS.has(p);

/** Phone candidates: 8–15 digits (E.164), 9+ for national formats; NANP area and exchange start with 2–9. */
function phoneValue(raw: string, nanp = false): string | null {
  const d = digitsOf(raw);
  if (nanp) return /^1?[2-9]\d{2}[2-9]\d{6}$/.test(d) ? d : null;
  const intl = raw.startsWith('+');
  return d.length >= (intl ? 8 : 9) && d.length <= 15 ? (intl ? `+${d}` : d) : null;
}

const withValue = (m: RegExpExecArray, kind: RedactionKind, value: string | null): Hit | null =>
  value === null ? null : hit(m, kind, value);

/** Detectors in priority order: an earlier detector's span cannot be claimed by a later one. */
const DETECTORS: Detector[] = [
  (t) => scan(EMAIL, t, (m) => hit(m, 'email', m[0].toLowerCase())),
  detectIban,
  (t) => scan(CARD, t, (m) => (luhnValid(digitsOf(m[0])) ? hit(m, 'card', digitsOf(m[0])) : null)),
  (t) =>
    scan(SSN, t, (m) => {
      const [, area, group, serial] = m;
      const ok = area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
      return ok ? hit(m, 'national_id', `${area}${group}${serial}`) : null;
    }),
  (t) => scan(NINO, t, (m) => (ninoPrefixValid(m[1]) ? hit(m, 'national_id', compact(m[0])) : null)),
  (t) => scan(PHONE_INTL, t, (m) => withValue(m, 'phone', phoneValue(m[0]))),
  (t) => scan(PHONE_NANP, t, (m) => withValue(m, 'phone', phoneValue(m[0], true))),
  (t) => scan(PHONE_EU, t, (m) => withValue(m, 'phone', phoneValue(m[0]))),
];

const zeroCounts = (): Record<RedactionKind, number> =>
  Object.fromEntries(REDACTION_KINDS.map((k) => [k, 0])) as Record<RedactionKind, number>;

/** One redaction session: placeholders are shared across every string it sees. */
function createRedactor(): { counts: Record<RedactionKind, number>; apply(text: string): string } {
  const counts = zeroCounts();
  const issued = zeroCounts();
  const placeholders = new Map<string, string>();
  const placeholderFor = (kind: RedactionKind, value: string): string => {
    const key = `${kind}\u0000${value}`;
    let p = placeholders.get(key);
    if (p === undefined) {
      p = `[${kind.toUpperCase()}_${++issued[kind]}]`;
      placeholders.set(key, p);
    }
    return p;
  };
  const apply = (text: string): string => {
    const claimed: Hit[] = [];
    const taken = new Uint8Array(text.length);
    for (const detect of DETECTORS) {
      for (const h of detect(text)) {
        if (taken.subarray(h.start, h.end).includes(1)) continue;
        taken.fill(1, h.start, h.end);
        claimed.push(h);
      }
    }
    claimed.sort((a, b) => a.start - b.start);
    let out = '';
    let pos = 0;
    for (const h of claimed) {
      if (h.kind === null) continue;
      out += text.slice(pos, h.start) + placeholderFor(h.kind, h.value);
      counts[h.kind]++;
      pos = h.end;
    }
    return out + text.slice(pos);
  };
  return { counts, apply };
}

/**
 * Replaces emails, phone numbers, Luhn-valid card numbers, mod-97-valid IBANs and national ids (US SSN,
 * UK NINO) with placeholders such as `[EMAIL_1]` or `[CARD_2]`. Within one call the same value (after
 * normalising separators and case) always gets the same placeholder; numbers count per kind in order of
 * first appearance. `counts` is the number of occurrences replaced per kind.
 */
export function redact(text: string): RedactionResult {
  const r = createRedactor();
  return { text: r.apply(text), counts: r.counts };
}

/**
 * Like {@link redact} for a JSON value: every string, including object keys, is redacted with one shared
 * placeholder numbering. Non-string leaves are kept. If two keys redact to the same text, the later one wins.
 */
export function redactJson(value: unknown): { value: unknown; counts: Record<RedactionKind, number> } {
  const r = createRedactor();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return r.apply(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, member]) => [r.apply(k), walk(member)]));
    }
    return v;
  };
  return { value: walk(value), counts: r.counts };
}
