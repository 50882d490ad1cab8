import { MerkleLog, verifyConsistency, verifyInclusion } from '../core/merkle';
import { openNote, parseCheckpoint } from '../core/signed-note';
import type { KeyRing } from '../core/payload-encryption';
import { signaturesChecked, trustProblems } from './attestation';
import type { BundleManifest } from './bundle';
import { decryptHistory, encryptedPayloads } from './decrypt';
import { PART_NAMES, jsonBytes, manifestKey } from './bundle';
import { parseHistoryJson } from './history';
import type { HoldRecord, LeafRecord, LogEntry } from './log';
import { CHECKPOINTS_PREFIX, LEAVES_PREFIX, isHoldRecord, leafKey } from './log';
import { buildDecisionReport } from './report';
import type { DecisionReport } from './report';
import type { AuditStore } from './store';
import type { WitnessPolicy } from './witness-policy';
import { checkWitnessing } from './witness-policy';
import { sha256Hex } from '../core/hash';

/**
 * Verifies an audit store from its contents alone: every part's hash against its manifest, every
 * manifest against its log leaf, every leaf's inclusion in the latest checkpoint, consistency between
 * successive checkpoints, checkpoint signatures against the verifier key, the checkpoint chain (no
 * checkpoint or leaf missing), witness cosignatures against a witness policy, legal holds recorded in
 * the log against the store, approval attestations where a key is configured — and, last, that the
 * store holds nothing else: every file (or S3 object version) must be one of those records. Nothing
 * is fatal: each finding is a named problem (`subject` is the store key or bundle it concerns).
 */
export interface VerifyOptions {
  /** Checkpoint verifier keys (C2SP note format). Without one, verification cannot pass. */
  verifierKeys: readonly string[];
  /** Expected checkpoint origin; by default every checkpoint must share the first one's. */
  origin?: string;
  /** Which witnesses must have cosigned the latest checkpoint, and how many of them. */
  witnesses?: WitnessPolicy;
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
  counts: {
    leaves: number;
    bundles: number;
    checkpoints: number;
    attestations: number;
    cosignatures: number;
    holds: number;
    objects: number;
  };
  latest?: {
    size: number;
    rootHex: string;
    /** The policy's witnesses whose valid cosignature the latest checkpoint carries. */
    witnesses: { name: string; keyId: string; timestamp: string }[];
  };
}

export interface CheckpointInfo {
  key: string;
  size: number;
  root: Buffer;
  body: string;
  prev?: number;
}

export async function verifyAuditStore(store: AuditStore, options: VerifyOptions): Promise<VerifyResult> {
  const problems: VerifyProblem[] = [];
  const notes: string[] = [];
  const counts = { leaves: 0, bundles: 0, checkpoints: 0, attestations: 0, cosignatures: 0, holds: 0, objects: 0 };
  /** Every key a leaf, a manifest or a checkpoint accounts for: the store may hold nothing else. */
  const accounted = new Set<string>();
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
  const entries: LeafRecord[] = [];
  const leafKeys = await store.list(LEAVES_PREFIX);
  const expected = new Set(leafKeys.map((_, i) => leafKey(i)));
  for (const key of leafKeys) {
    if (!expected.has(key)) fail(key, 'unexpected key in the log (leaf missing or renamed)');
    else accounted.add(key);
  }
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
    let entry: LeafRecord;
    try {
      entry = JSON.parse(bytes.toString('utf8')) as LeafRecord;
    } catch {
      fail(key, 'leaf record is not valid JSON');
      continue;
    }
    if (entry?.index !== i) fail(key, `leaf record says index ${String(entry?.index)}, it is stored as leaf ${i}`);
    else if (!jsonBytes(entry).equals(bytes)) fail(key, 'leaf record is not in canonical form');
    else if (isHoldRecord(entry) && !isWellFormedHold(entry)) fail(key, 'legal-hold record is malformed');
    else entries.push(entry);
  }

  // 2. Bundles: manifest against leaf, parts against manifest, report against history.
  const logged = new Set<string>();
  for (const entry of entries) {
    if (isHoldRecord(entry)) continue;
    const leaf = leafKey(entry.index);
    const expectedKey = manifestKey(String(entry.workflowId), String(entry.runId));
    if (entry.manifestKey !== expectedKey) {
      fail(leaf, `leaf names manifest ${entry.manifestKey}, expected ${expectedKey}`);
      continue;
    }
    logged.add(entry.manifestKey);
    const prefix = entry.manifestKey.slice(0, -'manifest.json'.length);
    accounted.add(entry.manifestKey);
    for (const name of PART_NAMES) accounted.add(`${prefix}${name}`);
    await verifyBundle(entry);
  }
  for (const key of await store.list('bundles/')) {
    if (key.endsWith('/manifest.json') && !logged.has(key)) {
      fail(key.slice(0, -'manifest.json'.length), 'bundle is not recorded in the log');
    }
  }

  // 3. Legal holds: the latest record for each key says whether it must be held; the store must agree.
  await verifyHolds(entries.filter(isHoldRecord));

  // 4. Checkpoints: signature, origin, chain, roots, consistency; then inclusion of every leaf.
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
    accounted.add(key);
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
      checkpoints.push({ key, size: checkpoint.size, root: checkpoint.rootHash, body, prev });
    } catch (err) {
      fail(key, `checkpoint does not verify: ${(err as Error).message}`);
    }
  }
  checkpoints.sort((a, b) => a.size - b.size);
  const sizes = new Set(checkpoints.map((cp) => cp.size));
  checkpoints.forEach((cp, i) => {
    const previous = checkpoints[i - 1];
    // `prev` names an earlier checkpoint (two writers may both follow the same one): it must be there.
    if (cp.prev === undefined || cp.prev >= cp.size || (cp.prev !== 0 && !sizes.has(cp.prev))) {
      fail(cp.key, `checkpoint follows size ${String(cp.prev)}, which is not present (one is missing)`);
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

  // 5. Witnesses: every cosignature object belongs to a checkpoint; the latest must meet the policy.
  const witnessing = await checkWitnessing(store, checkpoints, options.witnesses);
  for (const key of witnessing.accounted) accounted.add(key);
  problems.push(...witnessing.problems);
  notes.push(...witnessing.notes);
  counts.cosignatures = witnessing.valid;

  // 6. Whole store: every object under the root or prefix must be one of the records above.
  const reported = new Set(problems.map((p) => p.subject));
  for (const object of await store.inventory()) {
    counts.objects++;
    const where = object.versionId ? `${object.name} (version ${object.versionId})` : object.name;
    if (object.anomaly) fail(where, object.anomaly);
    else if (object.key && !accounted.has(object.key) && !reported.has(object.key)) {
      fail(where, 'not accounted for by a manifest, a leaf or a checkpoint');
    }
  }

  return {
    ok: problems.length === 0,
    problems,
    notes,
    counts,
    ...(latest
      ? {
          latest: {
            size: latest.size,
            rootHex: latest.root.toString('hex'),
            witnesses: witnessing.latest,
          },
        }
      : {}),
  };

  async function verifyHolds(holds: HoldRecord[]): Promise<void> {
    counts.holds = holds.length;
    const state = new Map<string, HoldRecord>();
    for (const record of holds) for (const key of record.keys) state.set(key, record);
    for (const [key, record] of state) {
      if (!record.hold) continue;
      try {
        if (!(await store.isHeld(key))) {
          fail(key, `legal hold placed in ${leafKey(record.index)} (${record.reason}) is not in force in the store`);
        }
      } catch (err) {
        fail(key, `legal hold placed in ${leafKey(record.index)} cannot be checked: ${(err as Error).message}`);
      }
    }
  }

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

function isWellFormedHold(record: HoldRecord): boolean {
  return (
    typeof record.missionId === 'string' &&
    typeof record.hold === 'boolean' &&
    typeof record.reason === 'string' &&
    typeof record.by === 'string' &&
    typeof record.at === 'string' &&
    Array.isArray(record.keys) &&
    record.keys.every((key) => typeof key === 'string')
  );
}
