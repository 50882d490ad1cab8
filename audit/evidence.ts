import { bundlePrefix, manifestKey } from './bundle';
import type { BundleManifest } from './bundle';
import { sha256Hex } from '../core/hash';
import type { AuditLog } from './log';
import { checkpointKey, checkpointSizes, cosignatureKey, leafKey } from './log';
import { cosignedSizes } from './witness-client';
import type { BundleEvidence } from './report-verification';
import type { AuditStore } from './store';

/**
 * A bundle's evidence from a store: its parts, its log leaf, the latest checkpoint with the witness
 * cosignatures kept for it, and the inclusion proof of the leaf in that checkpoint's tree. Parts can
 * be read through another reader (a bundle folder on disk read as it is, so a modified file is
 * reported against the manifest rather than refused by the store's own digest check).
 */
export interface StoreEvidence extends BundleEvidence {
  workflowId: string;
  runId: string;
  /** The checkpoint size the proof is for. */
  treeSize?: number;
  /** Store keys each piece came from (the evidence package lists them). */
  sources: Record<string, string>;
}

export interface EvidenceOptions {
  /** How to read the bundle's own parts (default: through the store). */
  readPart?: (name: 'history.json' | 'manifest.json' | 'report.json') => Promise<Buffer>;
  /**
   * Which checkpoint to prove inclusion in: the latest (what verify holds the witness policy to), or
   * the earliest that covers the leaf — it never changes, so a package of a bundle stays the same.
   */
  checkpoint?: 'latest' | 'earliest';
}

export async function evidenceFromStore(
  store: AuditStore,
  log: AuditLog,
  workflowId: string,
  runId: string,
  options: EvidenceOptions = {},
): Promise<StoreEvidence> {
  const readPart = options.readPart ?? ((name) => store.get(`${bundlePrefix(workflowId, runId)}${name}`));
  const sources: Record<string, string> = {};
  const history = await readPart('history.json');
  sources.history = `${bundlePrefix(workflowId, runId)}history.json`;
  const manifest = await readPart('manifest.json').catch(() => undefined);
  const report = await readPart('report.json').catch(() => undefined);
  const out: StoreEvidence = {
    workflowId,
    runId,
    history,
    sources,
    ...(report ? { report } : {}),
  };
  if (!manifest) return out;
  out.manifest = manifest;
  sources.manifest = manifestKey(workflowId, runId);
  const entry =
    log.find(sha256Hex(manifest)) ?? log.bundles().find((b) => b.workflowId === workflowId && b.runId === runId);
  if (!entry) return out;
  out.leaf = { index: entry.index, bytes: await store.get(leafKey(entry.index)) };
  sources.leaf = leafKey(entry.index);
  // The latest (or earliest) checkpoint that covers the leaf and reads back whole.
  const sizes = await checkpointSizes(store);
  for (const size of options.checkpoint === 'earliest' ? sizes : sizes.reverse()) {
    if (size <= entry.index || size > log.size) continue;
    try {
      const note = (await store.get(checkpointKey(size))).toString('utf8');
      const cosigners = [...(await cosignedSizes(store))].filter(([, sizes]) => sizes.includes(size)).map(([k]) => k);
      const lines: string[] = [];
      for (const keyId of cosigners) lines.push((await store.get(cosignatureKey(size, keyId))).toString('utf8'));
      out.checkpoint = `${note}${lines.join('')}`;
      out.proof = log.proveInclusion(entry.index, size);
      out.treeSize = size;
      sources.checkpoint = checkpointKey(size);
      break;
    } catch {
      continue;
    }
  }
  return out;
}

/** The manifest's ids, or undefined when it cannot be read. */
export function manifestIds(bytes: Buffer | undefined): { workflowId: string; runId: string } | undefined {
  try {
    const manifest = JSON.parse(bytes?.toString('utf8') ?? '') as BundleManifest;
    return manifest.workflowId && manifest.runId
      ? { workflowId: manifest.workflowId, runId: manifest.runId }
      : undefined;
  } catch {
    return undefined;
  }
}
