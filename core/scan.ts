import type { PseudonymKind } from './personal-data';

/** The scanning primitives the free-text detectors share. Pure. */

/** A span found in text. `kind: null` shields a near-miss (an IBAN with a typo) from later detectors. */
export interface Hit {
  start: number;
  end: number;
  kind: PseudonymKind | null;
  /** The value normalised for comparison (lower-cased email, E.164 phone, digits of a card…). */
  value: string;
}

// Digit runs must stand alone: not inside a word, not continuing another digit group ("4 1111", "ORD-2023"),
// so a later rule can never claim a fragment of a number an earlier rule rejected.
export const LB = String.raw`(?<![\p{L}\p{N}_@+.\-/]|\d )`;
export const RB = String.raw`(?![\p{L}\p{N}_@]|[ .\-/]\d)`;

/** Runs a global regex, letting `accept` decide each match; rejected matches are retried one char later. */
export function scan(re: RegExp, text: string, accept: (m: RegExpExecArray) => Hit | null): Hit[] {
  const hits: Hit[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const found = accept(m);
    if (found) hits.push(found);
    re.lastIndex = found ? Math.max(found.end, m.index + 1) : m.index + 1;
  }
  return hits;
}

export const hit = (
  m: RegExpExecArray,
  kind: PseudonymKind | null,
  value: string,
  end = m.index + m[0].length,
): Hit => ({
  start: m.index,
  end,
  kind,
  value,
});

/** The text just before `index`, lower-cased: where a keyword such as "ssn" or "order" would stand. */
export const before = (text: string, index: number, width: number): string =>
  text.slice(Math.max(0, index - width), index).toLowerCase();
