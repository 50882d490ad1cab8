import { MerkleLog, verifyConsistency, verifyInclusion } from '../core/merkle';
import { openNote, parseCheckpoint } from '../core/signed-note';
import type { KeyRing } from '../core/payload-encryption';
import { signaturesChecked, trustProblems } from './attestation';
import type { BundleManifest } from './bundle';
import { decryptHistory, encryptedPayloads } from './decrypt';
import { PART_NAMES, jsonBytes, manifestKey } from './bundle';
import { parseHistoryJson } from './history';
import type { LogEntry } from './log';
import { CHECKPOINTS_PREFIX, LEAVES_PREFIX, leafKey } from './log';
import { buildDecisionReport } from './report';
import type { DecisionReport } from './report';
import type { AuditStore } from './store';
import { sha256Hex } from '../core/hash';

/**
 * Verifies an audit store from its contents alone: every part's hash against its manifest, every
 * manifest against its log leaf, every leaf's inclusion in the latest checkpoint, consistency between
 * successive checkpoints, checkpoint signatures against the verifier key, the checkpoint chain (no
 * checkpoint or leaf missing), and the trust chain of every history: each counted vote, the start and
 * each applied control must carry a signature that verifies against the keys pinned in that history.
 * Nothing is
 * fatal: each finding is a named problem (`subject` is the store key or bundle it concerns).
 */
export interface VerifyOptions {
  /** Checkpoint verifier keys (C2SP note format). Without one, verification cannot pass. */
  verifierKeys: readonly string[];
  /** Expected checkpoint origin; by default every checkpoint must share the first one's. */
  origin?: string;
  /** Also rebuild each report.json from its history.json and compare (default true). */
  deep?: boolean;
  /**
   * Never needed for integrity (the log commits to the stored ciphertext). With it, approval
   * attestations inside encrypted histories are checked too; without it they are noted as unchecked.
   */
  keyRing?: KeyRing;
}

export interface VerifyProblem {
  subject: string;
  problem: string;
}

export interface VerifyResult {
  ok: boolean;
  problems: VerifyProblem[];
  notes: string[];
  counts: { leaves: number; bundles: number; checkpoints: number; attestations: number };
  latest?: { size: number; rootHex: string };
}

interface CheckpointInfo {
  key: string;
  size: number;
  root: Buffer;
  prev?: number;
}

export async function verifyAuditStore(store: AuditStore, options: VerifyOptions): Promise<VerifyResult> {
  const problems: VerifyProblem[] = [];
  const notes: string[] = [];
  const counts = { leaves: 0, bundles: 0, checkpoints: 0, attestations: 0 };
  let sealed = 0;
  const fail = (subject: string, problem: string) => problems.push({ subject, problem });
  const read = async (key: string, subject = key): Promise<Buffer | undefined> => {
    try {
      return await store.get(key);
    } catch (err) {
      fail(subject, `${key}: ${(err as Error).message}`);
      return undefined;
    }
  };

  // 1. Leaves: contiguous, canonical, self-consistent. The tree is built from the bytes as stored.
  const merkle = new MerkleLog();
  const entries: LogEntry[] = [];
  const leafKeys = await store.list(LEAVES_PREFIX);
  const expected = new Set(leafKeys.map((_, i) => leafKey(i)));
  for (const key of leafKeys) if (!expected.has(key)) fail(key, 'unexpected key in the log (leaf missing or renamed)');
  let treeComplete = true;
  const present = new Set(leafKeys);
  for (let i = 0; i < leafKeys.length; i++) {
    const key = leafKey(i);
    // The tree stops at the first missing or unreadable leaf: later roots cannot be recomputed.
    if (!present.has(key)) fail(key, `leaf ${i} is missing`);
    const bytes = present.has(key) ? await read(key) : undefined;
    if (!bytes) {
      treeComplete = false;
      break;
    }
    merkle.append(bytes);
    counts.leaves++;
    let entry: LogEntry;
    try {
      entry = JSON.parse(bytes.toString('utf8')) as LogEntry;
    } catch {
      fail(key, 'leaf record is not valid JSON');
      continue;
    }
    if (entry?.index !== i) fail(key, `leaf record says index ${String(entry?.index)}, it is stored as leaf ${i}`);
    else if (!jsonBytes(entry).equals(bytes)) fail(key, 'leaf record is not in canonical form');
    else entries.push(entry);
  }

  // 2. Bundles: manifest against leaf, parts against manifest, report against history.
  const logged = new Set<string>();
  for (const entry of entries) {
    const leaf = leafKey(entry.index);
    const expectedKey = manifestKey(String(entry.workflowId), String(entry.runId));
    if (entry.manifestKey !== expectedKey) {
      fail(leaf, `leaf names manifest ${entry.manifestKey}, expected ${expectedKey}`);
      continue;
    }
    logged.add(entry.manifestKey);
    await verifyBundle(entry);
  }
  for (const key of await store.list('bundles/')) {
    if (key.endsWith('/manifest.json') && !logged.has(key)) {
      fail(key.slice(0, -'manifest.json'.length), 'bundle is not recorded in the log');
    }
  }

  // 3. Checkpoints: signature, origin, chain, roots, consistency; then inclusion of every leaf.
  const checkpoints: CheckpointInfo[] = [];
  const keys = await store.list(CHECKPOINTS_PREFIX);
  if (options.verifierKeys.length === 0) fail('checkpoints/', 'no checkpoint verifier key is configured');
  let origin = options.origin;
  for (const key of keys) {
    const match = /^checkpoints\/(0|[1-9][0-9]*)\.note$/.exec(key);
    if (!match) {
      fail(key, 'unexpected key among checkpoints');
      continue;
    }
    const bytes = await read(key);
    if (!bytes || options.verifierKeys.length === 0) continue;
    counts.checkpoints++;
    try {
      const { body } = openNote(bytes, options.verifierKeys);
      const checkpoint = parseCheckpoint(body);
      origin ??= checkpoint.origin;
      if (checkpoint.origin !== origin) fail(key, `origin ${checkpoint.origin} is not ${origin}`);
      if (checkpoint.size !== Number(match[1]))
        fail(key, `checkpoint is for size ${checkpoint.size}, stored as ${match[1]}`);
      const prevLine = checkpoint.extensions.find((line) => line.startsWith('prev '));
      const prev = prevLine ? Number(prevLine.slice(5)) : undefined;
      checkpoints.push({ key, size: checkpoint.size, root: checkpoint.rootHash, prev });
    } catch (err) {
      fail(key, `checkpoint does not verify: ${(err as Error).message}`);
    }
  }
  checkpoints.sort((a, b) => a.size - b.size);
  checkpoints.forEach((cp, i) => {
    const previous = checkpoints[i - 1];
    const prevSize = previous?.size ?? 0;
    if (cp.prev !== prevSize) {
      fail(
        cp.key,
        `checkpoint follows size ${String(cp.prev)}, but the previous checkpoint present is ${prevSize} (one is missing)`,
      );
    }
    if (cp.size > merkle.size) {
      fail(
        cp.key,
        `checkpoint covers ${cp.size} leaves, the log holds ${merkle.size}${treeComplete ? '' : ' readable'}`,
      );
    } else if (!merkle.root(cp.size).equals(cp.root)) {
      fail(cp.key, `root hash differs from the tree of the first ${cp.size} stored leaves`);
    }
    if (previous && previous.size <= merkle.size && cp.size <= merkle.size) {
      const proof = merkle.proveConsistency(previous.size, cp.size);
      if (!verifyConsistency(previous.size, cp.size, previous.root, cp.root, proof)) {
        fail(cp.key, `not consistent with ${previous.key}`);
      }
    }
  });
  const latest = checkpoints.at(-1);
  if (leafKeys.length === 0 && keys.length === 0) {
    fail('store', 'holds no log leaves and no checkpoints (wrong store or directory, or everything was removed)');
  }
  if (!latest) {
    if (merkle.size > 0) fail('checkpoints/', `no valid checkpoint covers the ${merkle.size} leaves`);
  } else {
    if (latest.size < merkle.size) {
      fail(leafKey(latest.size), `leaves ${latest.size}..${merkle.size - 1} are not covered by any checkpoint`);
    }
    const upTo = Math.min(latest.size, merkle.size);
    if (latest.size <= merkle.size) {
      for (let i = 0; i < upTo; i++) {
        const proof = merkle.proveInclusion(i, latest.size);
        if (!verifyInclusion(merkle.leafHash(i), i, latest.size, proof, latest.root)) {
          fail(leafKey(i), `not included in ${latest.key}`);
        }
      }
    }
  }
  if (sealed > 0) {
    notes.push(
      `${sealed} bundle(s) hold encrypted payloads${options.keyRing ? ' under keys the key ring lacks' : ''}: ` +
        'their integrity is verified; the signatures inside them are checked only with the key ring',
    );
  }
  return {
    ok: problems.length === 0,
    problems,
    notes,
    counts,
    ...(latest ? { latest: { size: latest.size, rootHex: latest.root.toString('hex') } } : {}),
  };

  async function verifyBundle(entry: LogEntry): Promise<void> {
    const prefix = entry.manifestKey.slice(0, -'manifest.json'.length);
    const bytes = await read(entry.manifestKey, prefix);
    if (!bytes) return;
    counts.bundles++;
    if (sha256Hex(bytes) !== entry.manifestSha256) {
      fail(
        prefix,
        `manifest.json sha256 ${sha256Hex(bytes)} differs from leaf ${entry.index} (${entry.manifestSha256})`,
      );
      return;
    }
    let manifest: BundleManifest;
    try {
      manifest = JSON.parse(bytes.toString('utf8')) as BundleManifest;
    } catch {
      fail(prefix, 'manifest.json is not valid JSON');
      return;
    }
    if (manifest.workflowId !== entry.workflowId || manifest.runId !== entry.runId) {
      fail(prefix, 'manifest ids differ from the log leaf');
    }
    const parts: Partial<Record<(typeof PART_NAMES)[number], Buffer>> = {};
    for (const name of PART_NAMES) {
      const recorded = manifest.parts?.[name];
      const part = await read(`${prefix}${name}`, prefix);
      if (!part) continue;
      if (!recorded) fail(prefix, `manifest lists no ${name}`);
      else if (sha256Hex(part) !== recorded.sha256 || part.length !== recorded.size) {
        fail(prefix, `${name} sha256 ${sha256Hex(part)} (${part.length} bytes) differs from the manifest`);
      } else parts[name] = part;
    }
    const history = parts['history.json'];
    if (!history || options.deep === false) return;
    try {
      const json = parseHistoryJson(history);
      const report = buildDecisionReport(json);
      if (parts['report.json'] && !jsonBytes(report).equals(parts['report.json'])) {
        notes.push(`${prefix}: report.json differs from a report rebuilt from history.json by this version`);
      }
      const trusted = readableReport(json, report);
      counts.attestations += signaturesChecked(trusted);
      for (const problem of trustProblems(trusted)) fail(prefix, problem);
    } catch (err) {
      fail(prefix, `history.json cannot be read: ${(err as Error).message}`);
    }
  }

  /**
   * The report whose signatures are checked: the stored history's own, or, when it is encrypted and
   * the key ring reads it, the decrypted history's (without the ring, encrypted messages are noted).
   */
  function readableReport(json: ReturnType<typeof parseHistoryJson>, keyless: DecisionReport): DecisionReport {
    if (encryptedPayloads(json).count === 0) return keyless;
    if (options.keyRing) {
      try {
        return buildDecisionReport(decryptHistory(json, options.keyRing));
      } catch {
        // A key the auditor was not given: counted below, not a broken store.
      }
    }
    sealed++;
    return keyless;
  }
}
