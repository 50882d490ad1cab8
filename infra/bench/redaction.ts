import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownValue } from '../../core/known-values';
import { createRedactor } from '../../core/redaction';
import { MissionPseudonyms } from '../../reasoning/pseudonyms';

/**
 * Redaction throughput: the detector with keyed pseudonyms (what a provider outside the boundary gets),
 * string by string as the reasoning step walks a context, against a plain UTF-8 copy of the same text.
 * The text is the labelled corpus (test/fixtures/pii-corpus.json) repeated: a dense mix of personal data
 * and hard negatives, so a slow case shows.
 */
export interface RedactionResult {
  megabytes: number;
  strings: number;
  redaction: { seconds: number; mbPerSecond: number };
  copy: { seconds: number; mbPerSecond: number };
  /** redaction MB/s ÷ copy MB/s. */
  ratio: number;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export function benchRedaction(targetMegabytes: number): RedactionResult {
  const corpus = JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', 'pii-corpus.json'), 'utf8'),
  ) as { knownSubjects: KnownValue[]; phoneRegions: string[]; cases: { text: string }[] };
  const lines = corpus.cases.map((c) => c.text);
  const strings: string[] = [];
  let bytes = 0;
  while (bytes < targetMegabytes * 1_000_000) {
    for (const line of lines) {
      strings.push(line);
      bytes += Buffer.byteLength(line);
    }
  }
  const megabytes = bytes / 1_000_000;

  const pseudonyms = new MissionPseudonyms(new Uint8Array(32).fill(1), 'bench', corpus.phoneRegions);
  for (const k of corpus.knownSubjects) pseudonyms.declare(k.kind, k.value);
  const redactor = createRedactor({
    known: pseudonyms.known,
    phoneRegions: corpus.phoneRegions,
    placeholder: (kind, value, raw) => pseudonyms.pseudonym(kind, raw, value),
  });
  let out = 0;
  const t0 = process.hrtime.bigint();
  for (const s of strings) out += redactor.apply(s).length;
  const redactSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const t1 = process.hrtime.bigint();
  for (const s of strings) out += Buffer.from(s, 'utf8').toString('utf8').length;
  const copySeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  if (out === 0) throw new Error('nothing was redacted or copied');

  const redaction = { seconds: round(redactSeconds, 3), mbPerSecond: round(megabytes / redactSeconds) };
  const copy = { seconds: round(copySeconds, 3), mbPerSecond: round(megabytes / copySeconds) };
  return {
    megabytes: round(megabytes),
    strings: strings.length,
    redaction,
    copy,
    ratio: round(redaction.mbPerSecond / copy.mbPerSecond, 4),
  };
}
