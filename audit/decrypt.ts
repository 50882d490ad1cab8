import type { KeyRing } from '../core/payload-encryption';
import { isEncrypted, payloadFromJson, payloadKeyId, payloadToJson } from '../core/payload-encryption';
import type { HistoryJson } from './history';

/**
 * Reading encrypted histories. Bundles keep the history exactly as the cluster stored it
 * (ciphertext: that is what the Merkle leaves commit to); the decision report and the attestation
 * checks read a decrypted copy, made here with the auditor's key ring. Failure messages the encoding
 * failure converter moved into `encodedAttributes` are put back where the report reads them.
 */

interface Walk {
  encrypted: number;
  keyIds: Set<string>;
}

/** Key ids and the number of encrypted payloads in a history (no key needed). */
export function encryptedPayloads(history: HistoryJson): { count: number; keyIds: string[] } {
  const walk: Walk = { encrypted: 0, keyIds: new Set() };
  visit(history, walk, undefined);
  return { count: walk.encrypted, keyIds: [...walk.keyIds].sort() };
}

/** A decrypted copy of a history; throws UnknownEncryptionKey (naming the key id) for a key the ring lacks. */
export function decryptHistory(history: HistoryJson, ring: KeyRing): HistoryJson {
  const copy = structuredClone(history);
  visit(copy, { encrypted: 0, keyIds: new Set() }, ring);
  return copy;
}

function visit(node: unknown, walk: Walk, ring: KeyRing | undefined): unknown {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = visit(node[i], walk, ring);
    return node;
  }
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  const metadata = obj.metadata as Record<string, unknown> | undefined;
  if (metadata && typeof metadata === 'object' && typeof metadata.encoding === 'string') {
    const payload = payloadFromJson(obj as { metadata: Record<string, string>; data?: string });
    if (!isEncrypted(payload)) return node;
    walk.encrypted++;
    walk.keyIds.add(payloadKeyId(payload) ?? '(none)');
    return ring ? payloadToJson(ring.decrypt(payload)) : node;
  }
  for (const key of Object.keys(obj)) obj[key] = visit(obj[key], walk, ring);
  if (ring && obj.encodedAttributes) restoreFailureText(obj);
  return node;
}

function restoreFailureText(failure: Record<string, unknown>): void {
  const payload = payloadFromJson(failure.encodedAttributes as { metadata: Record<string, string>; data?: string });
  if (isEncrypted(payload)) return;
  try {
    const attrs = JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')) as {
      message?: unknown;
      stack_trace?: unknown;
    };
    if (typeof attrs.message === 'string') failure.message = attrs.message;
    if (typeof attrs.stack_trace === 'string') failure.stackTrace = attrs.stack_trace;
  } catch {
    // Not the converter's {message, stack_trace}: leave the failure as recorded.
  }
}
