/**
 * What an agent read, kept on the Explain rail so that an approver sees the evidence next to the
 * action it supports. Pure (the workflow calls it): a result larger than the bound is replaced by a
 * marked preview, so the rail (and the history it is carried in) stays small.
 */
export const EVIDENCE_MAX_CHARS = 4000;

export interface TruncatedEvidence {
  truncated: true;
  /** Size of the whole result as JSON. */
  chars: number;
  /** Its first characters as JSON text. */
  preview: string;
}

export function boundedEvidence(value: unknown, max = EVIDENCE_MAX_CHARS): unknown {
  const text = JSON.stringify(value) ?? 'null';
  if (text.length <= max) return value;
  return { truncated: true, chars: text.length, preview: text.slice(0, max) } satisfies TruncatedEvidence;
}
