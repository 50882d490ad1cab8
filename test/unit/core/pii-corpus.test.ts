import corpus from '../../fixtures/pii-corpus.json';
import { detect } from '../../../core/detectors';
import type { KnownValue } from '../../../core/known-values';
import type { PseudonymKind } from '../../../core/personal-data';

/**
 * The detector measured on a labelled corpus (test/fixtures/pii-corpus.json): recall and precision per
 * kind, with the thresholds it must meet. A hit counts when it overlaps a labelled value of its kind.
 */
const RECALL = 0.98;
const PRECISION = 0.95;

interface Case {
  text: string;
  pii: { kind: PseudonymKind; text: string }[];
  issue?: boolean;
}
const cases = corpus.cases as Case[];
const options = { known: corpus.knownSubjects as KnownValue[], phoneRegions: corpus.phoneRegions };

interface Tally {
  expected: number;
  found: number;
  hits: number;
  correct: number;
}

function measure(): { tallies: Map<string, Tally>; misses: string[] } {
  const tallies = new Map<string, Tally>();
  const tally = (kind: string) =>
    tallies.get(kind) ?? tallies.set(kind, { expected: 0, found: 0, hits: 0, correct: 0 }).get(kind)!;
  const misses: string[] = [];
  for (const c of cases) {
    const hits = detect(c.text, options);
    let from = 0;
    const labels = c.pii.map((p) => {
      const start = c.text.indexOf(p.text, from);
      from = start + 1;
      return { ...p, start, end: start + p.text.length };
    });
    const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) =>
      a.start < b.end && b.start < a.end;
    for (const label of labels) {
      const t = tally(label.kind);
      t.expected++;
      if (hits.some((h) => h.kind === label.kind && overlaps(h, label))) t.found++;
      else misses.push(`missed ${label.kind} "${label.text}" in: ${c.text}`);
    }
    for (const h of hits) {
      const t = tally(h.kind!);
      t.hits++;
      if (labels.some((l) => l.kind === h.kind && overlaps(h, l))) t.correct++;
      else misses.push(`false ${h.kind} "${c.text.slice(h.start, h.end)}" in: ${c.text}`);
    }
  }
  return { tallies, misses };
}

const ratio = (n: number, d: number) => (d === 0 ? 1 : n / d);

describe('the personal-data detector on the labelled corpus', () => {
  const { tallies, misses } = measure();

  it('holds at least 300 labelled strings, hard negatives among them, and the twenty strings of the review', () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    expect(cases.filter((c) => c.pii.length === 0).length).toBeGreaterThanOrEqual(100);
    expect(cases.filter((c) => c.issue)).toHaveLength(20);
  });

  it(`reaches recall ≥ ${RECALL} and precision ≥ ${PRECISION} for every kind`, () => {
    const rows = [...tallies].map(([kind, t]) => ({
      kind,
      labelled: t.expected,
      recall: ratio(t.found, t.expected),
      detected: t.hits,
      precision: ratio(t.correct, t.hits),
    }));
    const table = rows
      .map(
        (r) =>
          `${r.kind.padEnd(12)} recall ${r.recall.toFixed(3)} (${r.labelled})  precision ${r.precision.toFixed(3)} (${r.detected})`,
      )
      .join('\n');
    console.log(
      `personal-data detector on ${cases.length} strings:\n${table}${misses.length ? `\n${misses.join('\n')}` : ''}`,
    );
    for (const r of rows) {
      expect({ kind: r.kind, recallOk: r.recall >= RECALL }).toEqual({ kind: r.kind, recallOk: true });
      expect({ kind: r.kind, precisionOk: r.precision >= PRECISION }).toEqual({ kind: r.kind, precisionOk: true });
    }
  });

  it('finds every value in the twenty strings of the review', () => {
    const missed = cases
      .filter((c) => c.issue)
      .flatMap((c) => c.pii.filter((p) => !detect(c.text, options).some((h) => h.kind === p.kind)).map((p) => p.text));
    expect(missed).toEqual([]);
  });
});
