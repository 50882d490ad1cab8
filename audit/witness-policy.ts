import type { CosignatureVerifier } from '../core/cosignature';
import { checkCosignatureLine, parseCosignatureVerifierKey } from '../core/cosignature';
import { COSIGNATURES_PREFIX, COSIGNATURE_KEY } from './log';
import type { AuditStore } from './store';

/**
 * The auditor's witness policy and its check. A checkpoint signed by the log's key alone proves only
 * that the key holder signed it: whoever holds that key could sign a second, different history and
 * show it to someone else (a split view). Witnesses cosign a checkpoint only when it extends, by a
 * consistency proof, the one they cosigned before, so two forks cannot both gather their cosignatures.
 * The policy names the witness keys an auditor trusts and how many of them must have cosigned.
 *
 * Verify already proves every checkpoint consistent with the next, so the latest checkpoint must meet
 * the policy; an earlier one that does not (a witness was down at the time) is covered by it and noted.
 */
export interface WitnessPolicy {
  /** Witness cosignature verifier keys (C2SP vkeys, type 0x04, or plain Ed25519 0x01). */
  keys: readonly string[];
  /** How many distinct policy witnesses must have cosigned (default: all of them). */
  quorum?: number;
}

export interface WitnessingResult {
  accounted: string[];
  problems: { subject: string; problem: string }[];
  notes: string[];
  /** Valid cosignatures by policy witnesses, over all checkpoints. */
  valid: number;
  /** The policy witnesses that cosigned the latest checkpoint. */
  latest: { name: string; keyId: string; timestamp: string }[];
}

export function parseWitnessPolicy(policy: WitnessPolicy): { verifiers: CosignatureVerifier[]; quorum: number } {
  const verifiers = policy.keys.map(parseCosignatureVerifierKey);
  return { verifiers, quorum: policy.quorum ?? verifiers.length };
}

export async function checkWitnessing(
  store: AuditStore,
  checkpoints: readonly { key: string; size: number; body: string }[],
  policy: WitnessPolicy | undefined,
): Promise<WitnessingResult> {
  const result: WitnessingResult = { accounted: [], problems: [], notes: [], valid: 0, latest: [] };
  const fail = (subject: string, problem: string) => result.problems.push({ subject, problem });
  let verifiers: CosignatureVerifier[] = [];
  let quorum = 0;
  try {
    if (policy) ({ verifiers, quorum } = parseWitnessPolicy(policy));
  } catch (err) {
    fail('witness policy', (err as Error).message);
  }
  if (policy && (quorum < 1 || quorum > verifiers.length)) {
    fail('witness policy', `asks for ${quorum} cosignature(s) from ${verifiers.length} witness key(s)`);
  }
  const bySize = new Map(checkpoints.map((cp) => [cp.size, cp]));
  const witnessedBy = new Map<number, Map<number, { name: string; timestamp: number }>>();
  const unknown = new Set<string>();

  for (const key of await store.list(COSIGNATURES_PREFIX)) {
    const match = COSIGNATURE_KEY.exec(key);
    const checkpoint = match ? bySize.get(Number(match[1])) : undefined;
    if (!match) {
      fail(key, 'unexpected key among cosignatures');
      continue;
    }
    if (!checkpoint) {
      fail(key, `a cosignature for checkpoint ${match[1]}, which is not present or does not verify`);
      continue;
    }
    result.accounted.push(key);
    let line: string;
    try {
      line = (await store.get(key)).toString('utf8');
    } catch (err) {
      fail(key, (err as Error).message);
      continue;
    }
    try {
      if (!line.endsWith('\n') || line.slice(0, -1).includes('\n')) throw new Error('is not one signature line');
      const raw = Buffer.from(line.slice(0, -1).split(' ').at(-1) ?? '', 'base64');
      if (raw.length < 4 || raw.readUInt32BE(0) !== parseInt(match[2], 16))
        throw new Error(`is not by key ID ${match[2]}, as its name says`);
      const cosignature = checkCosignatureLine(checkpoint.body, line, verifiers);
      if (!cosignature) {
        unknown.add(line.split(' ')[1]);
        continue;
      }
      result.valid++;
      const map = witnessedBy.get(checkpoint.size) ?? new Map();
      map.set(cosignature.keyId, { name: cosignature.name, timestamp: cosignature.timestamp });
      witnessedBy.set(checkpoint.size, map);
    } catch (err) {
      fail(key, `cosignature of ${checkpoint.key} ${(err as Error).message.replace(/^invalid /, 'is an invalid ')}`);
    }
  }
  if (unknown.size)
    result.notes.push(`cosignatures by witnesses outside the policy ignored: ${[...unknown].join(', ')}`);

  const latest = checkpoints.at(-1);
  if (!policy) {
    if (latest) result.notes.push('no witness policy given: checkpoints are trusted on the log key alone');
    return result;
  }
  if (!latest) return result;
  const signed = witnessedBy.get(latest.size) ?? new Map<number, { name: string; timestamp: number }>();
  result.latest = [...signed].map(([keyId, c]) => ({
    name: c.name,
    keyId: keyId.toString(16).padStart(8, '0'),
    timestamp: new Date(c.timestamp * 1000).toISOString(),
  }));
  if (signed.size < quorum) {
    const missing = verifiers.filter((v) => !signed.has(v.keyId)).map((v) => v.name);
    fail(
      latest.key,
      `has ${signed.size} valid witness cosignature(s), the policy needs ${quorum} (missing: ${missing.join(', ')})`,
    );
  }
  const unwitnessed = checkpoints
    .slice(0, -1)
    .filter((cp) => (witnessedBy.get(cp.size)?.size ?? 0) < quorum)
    .map((cp) => cp.size);
  if (unwitnessed.length && signed.size >= quorum) {
    result.notes.push(
      `checkpoint(s) ${unwitnessed.join(', ')} lack the witness quorum themselves; the latest, which has it, extends them`,
    );
  }
  return result;
}
