import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyLoadIssue } from './types';

/** One policy cut out of a `.cedar` file. */
export interface PolicySource {
  /** From the policy's first token (an annotation or the effect) through its closing `;`. */
  text: string;
  /** Offset of `text` in the file, in UTF-16 code units (JavaScript string indices). */
  offset: number;
}

/**
 * Cuts a policy file into policies. Cedar ends every policy with `;`, which otherwise only occurs inside
 * string literals and `//` comments, so a scan that skips those two finds each policy. Comments and blank
 * lines between policies are dropped, which keeps a policy's text (and so the version hash) independent of
 * where it sits in the file. Text after the last `;` is returned as a final piece so that it gets reported.
 */
export function splitPolicyText(fileText: string): PolicySource[] {
  const out: PolicySource[] = [];
  let start = -1;
  let inString = false;
  for (let i = 0; i < fileText.length; i++) {
    const ch = fileText[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '/' && fileText[i + 1] === '/') {
      const newline = fileText.indexOf('\n', i);
      i = newline === -1 ? fileText.length : newline;
      continue;
    }
    if (/\s/.test(ch)) continue;
    if (start === -1) start = i;
    if (ch === '"') inString = true;
    else if (ch === ';') {
      out.push({ text: fileText.slice(start, i + 1), offset: start });
      start = -1;
    }
  }
  if (start !== -1) out.push({ text: fileText.slice(start).trimEnd(), offset: start });
  return out;
}

/** Git checkouts may turn `\n` into `\r\n`; the version hash must not change with them. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** 1-based line and column of a string index. */
export function lineColumn(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(index, text.length)));
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: before.length - lastNewline };
}

/** Cedar reports source spans as UTF-8 byte offsets; JavaScript indexes UTF-16 code units. */
export function byteToStringIndex(text: string, byteOffset: number): number {
  return Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8').length;
}

/** Cedar's message plus its help text, on one line. */
export function cedarMessage(error: DetailedError): string {
  const label = error.sourceLocations?.find((loc) => loc.label)?.label;
  const parts = [error.message, label ? `(${label})` : '', error.help ? `help: ${error.help}` : ''];
  return parts.filter(Boolean).join(' ');
}

/** Where the text Cedar saw sits: `sourceText` starts at index `base` of `fileText`. */
export interface CedarSource {
  fileText: string;
  sourceText: string;
  base: number;
}

/** Turns a Cedar error into a load issue in `file`, located when Cedar gave a span and `source` is known. */
export function issueFromCedar(
  error: DetailedError,
  file: string,
  source?: CedarSource,
  policyId?: string,
): PolicyLoadIssue {
  const span = error.sourceLocations?.[0];
  const issue: PolicyLoadIssue = { file, message: cedarMessage(error), policyId };
  if (span && source) {
    Object.assign(issue, lineColumn(source.fileText, source.base + byteToStringIndex(source.sourceText, span.start)));
  }
  return issue;
}
