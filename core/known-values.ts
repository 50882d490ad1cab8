import type { PseudonymKind } from './personal-data';
import { normalisePhone } from './phones';
import type { Hit } from './scan';

/**
 * Exact matching of values known to be personal — the mission's subject and the people its reads
 * returned — wherever they recur in free text ("Jane Doe called", "JANE DOE", "Mrs Doe"). A name is
 * matched whole (any case) and by its parts when written as names are (capitalised or upper case);
 * an address whole and by its comma-separated lines of two words or more.
 */
export interface KnownValue {
  kind: PseudonymKind;
  value: string;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const words = (s: string): string => s.trim().replace(/\s+/g, ' ');
/** Whitespace in a known value matches any run of whitespace in text. */
const pattern = (s: string): string =>
  words(s)
    .split(' ')
    .map(escape)
    .join(String.raw`\s+`);

/** The comparable form of a value of a kind, so one person's email in two spellings is one pseudonym. */
export function normaliseValue(kind: PseudonymKind, raw: string, phoneRegions: readonly string[]): string {
  const text = words(raw.normalize('NFC'));
  switch (kind) {
    case 'email':
      return text.toLowerCase();
    case 'phone':
      return normalisePhone(text, phoneRegions);
    case 'card':
      return text.replace(/\D/g, '');
    case 'iban':
    case 'national_id':
      return text.replace(/[\s-]/g, '').toUpperCase();
    default:
      return text.toLowerCase();
  }
}

interface Term {
  kind: PseudonymKind;
  text: string;
}

/** The strings to look for: each value whole, plus the parts people write on their own. */
function termsOf(known: readonly KnownValue[]): { whole: Term[]; parts: Term[] } {
  const whole: Term[] = [];
  const parts: Term[] = [];
  for (const { kind, value } of known) {
    const text = words(value);
    if (text.length < 2) continue;
    whole.push({ kind, text });
    if (kind === 'name') {
      for (const part of text.split(/[\s,]+/)) {
        // Initials and particles ("J.", "de") say little on their own; names of two letters and more do.
        if (/^\p{L}[\p{L}'\-]+$/u.test(part) && part !== part.toLowerCase()) {
          parts.push({ kind, text: part }, { kind, text: part.toUpperCase() });
        }
      }
    }
    if (kind === 'address') {
      for (const line of text.split(/\s*[,\n;]\s*/))
        if (line !== text && line.includes(' ') && line.length >= 6) whole.push({ kind, text: line });
    }
  }
  const longestFirst = (a: Term, b: Term) => b.text.length - a.text.length;
  return { whole: whole.sort(longestFirst), parts: parts.sort(longestFirst) };
}

/**
 * One pattern per term, tried only when the text holds the term's first word (a plain substring test,
 * far cheaper than running a large alternation at every position of every string).
 */
function matcher(terms: Term[], caseless: boolean): (text: string) => Hit[] {
  const compiled = terms.map((t) => ({
    kind: t.kind,
    probe: caseless ? words(t.text).split(' ')[0].toLowerCase() : words(t.text).split(' ')[0],
    re: new RegExp(String.raw`(?<![\p{L}\p{N}_])${pattern(t.text)}(?![\p{L}\p{N}_])`, caseless ? 'giu' : 'gu'),
  }));
  return (text) => {
    const haystack = caseless ? text.toLowerCase() : text;
    const hits: Hit[] = [];
    for (const term of compiled) {
      if (!haystack.includes(term.probe)) continue;
      for (const m of text.matchAll(term.re)) {
        hits.push({ start: m.index, end: m.index + m[0].length, kind: term.kind, value: words(m[0]) });
      }
    }
    return hits;
  };
}

const cache = new WeakMap<readonly KnownValue[], (text: string) => Hit[]>();

/** A detector for these known values (built once per list). Hit values are the text as written. */
export function knownValuesDetector(known: readonly KnownValue[]): (text: string) => Hit[] {
  let detect = cache.get(known);
  if (!detect) {
    const { whole, parts } = termsOf(known);
    const any = matcher(whole, true);
    const named = matcher(parts, false);
    // Longest first, whole values before parts: `detect` keeps the first claim on a span.
    detect = (text) => [...any(text), ...named(text)];
    cache.set(known, detect);
  }
  return detect;
}
