/** Pure (no Node built-ins): workflows use it to rebuild what a signature covers. */

/**
 * Canonical JSON: object keys sorted recursively, no whitespace, `undefined` members dropped.
 * Two semantically equal JSON values always produce the same string, so their hashes match.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortDeep(value));
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = sortDeep(member);
    }
    return out;
  }
  return value;
}
