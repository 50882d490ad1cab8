import { knownValuesDetector } from './known-values';
import type { KnownValue } from './known-values';
import { detectPhones } from './phones';
import type { Hit } from './scan';
import { LB, RB, before, hit, scan } from './scan';

export type { Hit } from './scan';

/**
 * The free-text detector: candidates found by regular expressions on the original text, kept only
 * when a validator agrees (Luhn, ISO 13616 mod-97, SSN allocation, libphonenumber), plus exact
 * matches of values the caller knows to be personal (the mission's subjects). Pure.
 */

export interface DetectOptions {
  /** Values known to be personal (names, addresses… of the mission's subjects), matched as written. */
  known?: readonly KnownValue[];
  /** ISO 3166 regions whose national phone formats are recognised (default US, GB, DE, FR). */
  phoneRegions?: readonly string[];
}

export const DEFAULT_PHONE_REGIONS: readonly string[] = ['US', 'GB', 'DE', 'FR'];

const digitsOf = (s: string): string => s.replace(/\D/g, '');
const compact = (s: string): string => s.replace(/[\s-]/g, '').toUpperCase();

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

/** SSA rules: no area 000, 666 or 9xx, no group 00, no serial 0000. */
export const ssnValid = (area: string, group: string, serial: string): boolean =>
  area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';

const L = String.raw`[\p{L}\p{N}_%+\-]`;
// Plain addresses, internationalised ones included (jürgen@müller.de, user@xn--mller-kva.de).
const EMAIL = new RegExp(
  String.raw`(?<![\p{L}\p{N}_.%+\-])${L}+(?:\.${L}+)*@(?:[\p{L}\p{N}\-]+\.)+(?:\p{L}{2,}|xn--[a-z0-9\-]+)(?![\p{L}\p{N}\-])`,
  'gu',
);
// Spelled-out addresses: "jane dot doe at example dot com", "jane(at)example.com", "jane [at] example [dot] com".
const DOT = String.raw`(?:\s*[\[(]dot[\])]\s*|\s+dot\s+|\.)`;
const AT = String.raw`(?:\s*[\[(]at[\])]\s*|\s+at\s+|\s*@\s*)`;
const WORD = String.raw`[\p{L}\p{N}_%+\-]+`;
const SPELLED_EMAIL = new RegExp(String.raw`(?<![\p{L}\p{N}_.%+\-])${WORD}(?:${DOT}${WORD})*${AT}${WORD}(?:${DOT}${WORD})*${DOT}\p{L}{2,}(?![\p{L}\p{N}\-])`, 'giu'); // prettier-ignore

/** Cheap gate before the spelled-out address pattern: an "@" or an "at" that is spelled out. */
const SPELLED_HINT = /@|[\[(]at[\])]|\sat\s/i;

/** A spelled-out address counts when something is spelled out ("dot", "(at)") besides a plain "at". */
function spelledEmail(m: RegExpExecArray): Hit | null {
  const raw = m[0];
  if (!/[\[(](?:at|dot)[\])]|\sdot\s|\s@|@\s/i.test(raw)) return null;
  const value = raw
    .replace(/\s*[\[(]at[\])]\s*|\s+at\s+|\s*@\s*/i, '@')
    .replace(/\s*[\[(]dot[\])]\s*|\s+dot\s+/gi, '.')
    .toLowerCase();
  // Spelled out, the top-level domain is a short word ("com", "de", "co.uk"): "at 5 dot something" is prose.
  return /^[^@\s]+@[^@\s]+\.\p{L}{2,6}$/u.test(value) ? hit(m, 'email', value) : null;
}

const IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2}(?: {0,2}[A-Za-z0-9]){10,34}/g;

/** IBANs are often followed by more capitals ("… 7654 32 REF"): take exactly the country's length, then a boundary. */
function detectIban(text: string): Hit[] {
  return scan(IBAN, text, (m) => {
    const length = IBAN_LENGTHS[m[0].slice(0, 2).toUpperCase()];
    if (!length) return null;
    let taken = 0;
    let end = m.index;
    while (taken < length && end < m.index + m[0].length) if (text[end++] !== ' ') taken++;
    if (taken < length || /[A-Za-z0-9]/.test(text[end] ?? '')) return null;
    const value = compact(text.slice(m.index, end));
    // A lower-case near-miss is just a word; an upper-case one shields its digits from the phone rules.
    if (!ibanValid(value)) return /[a-z]/.test(m[0]) ? null : hit(m, null, value, end);
    return hit(m, 'iban', value, end);
  });
}

// Card layouts: compact, 4-4-4-4(-3) / 4-4-4-1..4, or Amex/Diners 4-6-5 / 4-6-4, one separator throughout. A card may
// be followed by more digits after a space ("… 1111 12/25" expiry), so its right boundary tolerates " \d".
const CARD = new RegExp(
  String.raw`${LB}(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1(?:\d{4}\1\d{1,3}|\d{1,4})|\d{4}([ -])\d{6}\2\d{4,5})(?![\p{L}\p{N}_@]|[.\-/]\d)`,
  'gu',
);

const SSN_KEYWORD =
  /\b(?:ssn|ss#|ss no\.?|social security(?: number| no\.?| #)?|soc\.? ?sec\.?(?: no\.?)?|itin)\W{0,6}(?:is|was|:|#|no\.?|number)?\W{0,4}$/;
// 123-45-6789 and 123 45 6789 alone; bare 123456789 or 123.45.6789 only right after an SSN keyword.
const SSN = new RegExp(String.raw`${LB}(\d{3})([ \-.]?)(\d{2})\2(\d{4})${RB}`, 'gu');
function detectSsn(text: string): Hit[] {
  return scan(SSN, text, (m) => {
    const [, area, sep, group, serial] = m;
    if (!ssnValid(area, group, serial)) return null;
    if ((sep === '' || sep === '.') && !SSN_KEYWORD.test(before(text, m.index, 40))) return null;
    return hit(m, 'national_id', `${area}${group}${serial}`);
  });
}

const NINO_KEYWORD =
  /\b(?:ni|nino|ni no\.?|ni number|national insurance(?: number| no\.?)?)\W{0,6}(?:is|was|:|#)?\W{0,4}$/;
// HMRC's own specimen (QQ 12 34 56 C) is how people write examples and test data: every prefix counts.
const NINO = /(?<![A-Za-z0-9])([A-Za-z]{2})[ -]?(\d{2})[ -]?(\d{2})[ -]?(\d{2})[ -]?([A-Da-d])(?![A-Za-z0-9])/g;
function detectNino(text: string): Hit[] {
  return scan(NINO, text, (m) => {
    const upper = m[0] === m[0].toUpperCase();
    if (!upper && !NINO_KEYWORD.test(before(text, m.index, 40))) return null;
    return hit(m, 'national_id', compact(m[0]));
  });
}

type Detector = (text: string, options: DetectOptions) => Hit[];

/** Detectors in priority order: an earlier detector's span cannot be claimed by a later one. */
const DETECTORS: Detector[] = [
  (t) => (t.includes('@') ? scan(EMAIL, t, (m) => hit(m, 'email', m[0].toLowerCase())) : []),
  (t) => (SPELLED_HINT.test(t) ? scan(SPELLED_EMAIL, t, spelledEmail) : []),
  // After emails, so that jane.doe@… stays one email rather than two names and a remainder.
  (t, o) => (o.known?.length ? knownValuesDetector(o.known)(t) : []),
  detectIban,
  (t) => scan(CARD, t, (m) => (luhnValid(digitsOf(m[0])) ? hit(m, 'card', digitsOf(m[0])) : null)),
  detectSsn,
  detectNino,
  (t, o) => detectPhones(t, o.phoneRegions ?? DEFAULT_PHONE_REGIONS),
];

/** Every personal value found in `text`, as non-overlapping spans in text order (shields dropped). */
export function detect(text: string, options: DetectOptions = {}): Hit[] {
  if (text.length < 2) return [];
  const claimed: Hit[] = [];
  const taken = new Uint8Array(text.length);
  for (const run of DETECTORS) {
    for (const h of run(text, options)) {
      if (taken.subarray(h.start, h.end).includes(1)) continue;
      taken.fill(1, h.start, h.end);
      claimed.push(h);
    }
  }
  return claimed.filter((h) => h.kind !== null).sort((a, b) => a.start - b.start);
}
