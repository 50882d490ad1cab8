import type { CosignatureVerifier } from '../core/cosignature';
import { checkCosignatureLine, parseCosignatureVerifierKey } from '../core/cosignature';
import type { AuditLog } from './log';
import { COSIGNATURE_KEY, COSIGNATURES_PREFIX, checkpointKey, cosignatureKey } from './log';
import type { AuditStore } from './store';
import { WriteOnceViolation } from './store';
import { sha256Hex } from '../core/hash';

/**
 * The log's side of C2SP tlog-witness: after a checkpoint is signed, ask each configured witness to
 * cosign it with a consistency proof from the size that witness last cosigned (read from the store,
 * or learned from its 409 answer), check the returned cosignature against the witness's key, and
 * keep it beside the checkpoint (`cosignatures/<size>/<key id>.sig`). A witness that is down or
 * refuses costs a cosignature, never the export: the next checkpoint asks again.
 */
export interface WitnessEndpoint {
  /** The witness's submission prefix, e.g. http://127.0.0.1:7380 (add-checkpoint is appended). */
  url: string;
  /** Its cosignature verifier key. */
  verifierKey: string;
}

export interface WitnessOutcome {
  witness: string;
  keyId: string;
  size: number;
  status: 'cosigned' | 'stored' | 'ahead' | 'refused' | 'unreachable';
  detail?: string;
}

const TIMEOUT_MS = 10_000;

/** Asks every witness to cosign checkpoint `size` of `log` (already stored); never throws for a witness. */
export async function gatherCosignatures(
  store: AuditStore,
  log: AuditLog,
  size: number,
  witnesses: readonly WitnessEndpoint[],
): Promise<WitnessOutcome[]> {
  if (!witnesses.length || size === 0) return [];
  const note = (await store.get(checkpointKey(size))).toString('utf8');
  const body = note.slice(0, note.lastIndexOf('\n\n') + 1);
  const cosigned = await cosignedSizes(store);
  const outcomes: WitnessOutcome[] = [];
  for (const endpoint of witnesses) {
    const verifier = parseCosignatureVerifierKey(endpoint.verifierKey);
    const keyId = verifier.keyId.toString(16).padStart(8, '0');
    const base = { witness: verifier.name, keyId, size };
    const mine = cosigned.get(verifier.keyId) ?? [];
    if (mine.includes(size)) {
      outcomes.push({ ...base, status: 'stored' });
      continue;
    }
    try {
      outcomes.push({ ...base, ...(await ask(endpoint, verifier, Math.max(0, ...mine.filter((s) => s < size)))) });
    } catch (err) {
      outcomes.push({ ...base, status: 'unreachable', detail: (err as Error).message });
    }
  }
  return outcomes;

  async function ask(
    endpoint: WitnessEndpoint,
    verifier: CosignatureVerifier,
    oldSize: number,
  ): Promise<Pick<WitnessOutcome, 'status' | 'detail'>> {
    // Two tries: the first may learn from a 409 the size the witness really holds.
    for (let attempt = 0; attempt < 3; attempt++) {
      const proof = oldSize === 0 || oldSize === size ? [] : log.proveConsistency(oldSize, size);
      const request = [`old ${oldSize}`, ...proof.map((h) => h.toString('base64')), '', note].join('\n');
      const response = await fetch(new URL('add-checkpoint', withSlash(endpoint.url)), {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: request,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status === 409 && /^(0|[1-9][0-9]*)\n$/.test(text)) {
        const held = Number(text.trim());
        if (held > size) return { status: 'ahead', detail: `the witness has cosigned size ${held} already` };
        if (held === oldSize) break;
        oldSize = held;
        continue;
      }
      if (response.status !== 200) return { status: 'refused', detail: `${response.status}: ${text.trim()}` };
      const lines = text.split(/(?<=\n)/).filter((line) => line.startsWith('\u2014 '));
      for (const line of lines) {
        const cosignature = checkCosignatureLine(body, line, [verifier]);
        if (!cosignature) continue;
        const bytes = Buffer.from(cosignature.line, 'utf8');
        try {
          await store.putOnce(cosignatureKey(size, verifier.keyId), bytes, { sha256Hex: sha256Hex(bytes) });
        } catch (err) {
          // A concurrent exporter stored this witness's (differently timestamped) cosignature first.
          if (!(err instanceof WriteOnceViolation)) throw err;
        }
        return { status: 'cosigned' };
      }
      return { status: 'refused', detail: 'the answer holds no cosignature by the witness key' };
    }
    return { status: 'refused', detail: 'the witness keeps answering 409 Conflict' };
  }
}

/** The checkpoint sizes each witness (by key ID) has a stored cosignature for. */
export async function cosignedSizes(store: AuditStore): Promise<Map<number, number[]>> {
  const sizes = new Map<number, number[]>();
  for (const key of await store.list(COSIGNATURES_PREFIX)) {
    const match = COSIGNATURE_KEY.exec(key);
    if (!match) continue;
    const keyId = parseInt(match[2], 16);
    sizes.set(keyId, [...(sizes.get(keyId) ?? []), Number(match[1])]);
  }
  return sizes;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
