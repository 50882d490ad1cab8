import { canonicalJson, sha256Hex } from '../core/hash';
import type { ArchiveFiles } from './archive';
import { isZip, readArchive, writeArchive } from './archive';
import type { StoreEvidence } from './evidence';
import type { DecisionReport } from './report';
import { reportFromEvidence } from './readable-report';
import { renderReportHtml } from './report-html';
import type { BundleEvidence, TrustedKeys, VerificationCheck } from './report-verification';
import { splitPem } from './package-keys';

/**
 * An evidence package: everything an external auditor needs to check one mission run without
 * Mandate's servers — the bundle, its log leaf and inclusion proof, the checkpoint with its witness
 * cosignatures, the public keys in force, the readable report and a README saying how to check it.
 * The archive is deterministic (same bundle and keys → same bytes), and every file is checked on
 * verification: the chain (history → manifest → leaf → proof → signed, cosigned checkpoint) by
 * cryptography, SHA256SUMS for every file, and README.txt and report.html by rebuilding them.
 */
export const PACKAGE_FILES = {
  readme: 'README.txt',
  sums: 'SHA256SUMS',
  history: 'bundle/history.json',
  manifest: 'bundle/manifest.json',
  report: 'bundle/report.json',
  leaf: 'log/leaf.json',
  proof: 'log/inclusion-proof.json',
  checkpoint: 'log/checkpoint.note',
  checkpointKeys: 'keys/checkpoint.vkeys',
  witnessPolicy: 'keys/witness-policy.json',
  signers: 'keys/signers.json',
  grantKeys: 'keys/grants.pem',
  html: 'report.html',
} as const;

interface ProofFile {
  leafIndex: number;
  treeSize: number;
  hashes: string[];
}

/** Builds the package's files (then `writeArchive`) from a bundle's evidence and the keys in force. */
export function packageFiles(evidence: StoreEvidence, keys: TrustedKeys): ArchiveFiles {
  const f = PACKAGE_FILES;
  const files: ArchiveFiles = new Map();
  files.set(f.history, evidence.history);
  if (evidence.manifest) files.set(f.manifest, evidence.manifest);
  if (evidence.report) files.set(f.report, evidence.report);
  if (evidence.leaf) files.set(f.leaf, evidence.leaf.bytes);
  if (evidence.leaf && evidence.proof && evidence.treeSize !== undefined) {
    const proof: ProofFile = {
      leafIndex: evidence.leaf.index,
      treeSize: evidence.treeSize,
      hashes: evidence.proof.map((h) => h.toString('base64')),
    };
    files.set(f.proof, Buffer.from(`${canonicalJson(proof)}\n`));
  }
  if (evidence.checkpoint) files.set(f.checkpoint, Buffer.from(evidence.checkpoint, 'utf8'));
  files.set(f.checkpointKeys, lines(keys.checkpoint));
  if (keys.witnesses) files.set(f.witnessPolicy, Buffer.from(`${canonicalJson(keys.witnesses)}\n`));
  files.set(f.grantKeys, Buffer.from((keys.grants ?? []).map((k) => k.trim()).join('\n') + '\n'));
  return finish(files);
}

/** Adds the derived files: the readable report, the README and SHA256SUMS. */
function finish(files: ArchiveFiles): ArchiveFiles {
  const { evidence, keys } = fromFiles(files);
  const readable = reportFromEvidence(evidence, keys);
  files.set(PACKAGE_FILES.html, Buffer.from(renderReportHtml(readable.report, readable), 'utf8'));
  files.set(PACKAGE_FILES.signers, signersFile(readable.report));
  files.set(PACKAGE_FILES.readme, Buffer.from(readme(readable.report.workflowId, readable.report.runId), 'utf8'));
  files.set(PACKAGE_FILES.sums, sums(files));
  return files;
}

export function buildPackage(evidence: StoreEvidence, keys: TrustedKeys, out: string): Buffer {
  const files = packageFiles(evidence, keys);
  const manifest = evidence.manifest ? (JSON.parse(evidence.manifest.toString('utf8')) as { closedAt?: string }) : {};
  // The archive's one timestamp is the run's close: the same bundle always packs to the same bytes.
  return writeArchive(files, isZip(out), new Date(manifest.closedAt ?? 0));
}

export interface PackageVerification {
  ok: boolean;
  workflowId?: string;
  runId?: string;
  /** Files that were changed, missing or out of place, each named. */
  problems: { file: string; problem: string }[];
  /** The report's own verification (approval and grant findings are about the mission, not the package). */
  checks: VerificationCheck[];
}

/** Checks a package offline; `pinned` keys, when given, must be the ones the package carries. */
export function verifyPackage(bytes: Buffer, pinned: { checkpoint?: string[] } = {}): PackageVerification {
  const problems: PackageVerification['problems'] = [];
  let files: ArchiveFiles;
  try {
    files = readArchive(bytes);
  } catch (err) {
    return { ok: false, problems: [{ file: '(archive)', problem: (err as Error).message }], checks: [] };
  }
  const known = new Set<string>(Object.values(PACKAGE_FILES));
  for (const name of files.keys())
    if (!known.has(name)) problems.push({ file: name, problem: 'not part of an evidence package' });
  for (const name of [
    PACKAGE_FILES.history,
    PACKAGE_FILES.manifest,
    PACKAGE_FILES.leaf,
    PACKAGE_FILES.proof,
    PACKAGE_FILES.checkpoint,
    PACKAGE_FILES.checkpointKeys,
    PACKAGE_FILES.sums,
  ])
    if (!files.has(name)) problems.push({ file: name, problem: 'missing' });

  // Every file against SHA256SUMS: what differs is a suspect, unless other checks clear it.
  const listed = parseSums(files.get(PACKAGE_FILES.sums));
  const mismatched = new Set<string>();
  for (const [name, bytesOf] of files) {
    if (name === PACKAGE_FILES.sums || !known.has(name)) continue;
    if (listed.get(name) !== sha256Hex(bytesOf)) mismatched.add(name);
  }
  for (const name of listed.keys())
    if (!files.has(name))
      problems.push({ file: PACKAGE_FILES.sums, problem: `lists ${name}, which is not in the package` });

  // The chain, by cryptography; the derived files, by rebuilding them.
  const { evidence, keys, unreadable } = fromFiles(files);
  for (const file of unreadable) problems.push({ file, problem: 'cannot be read' });
  if (
    pinned.checkpoint?.length &&
    canonicalJson([...keys.checkpoint].sort()) !== canonicalJson([...pinned.checkpoint].sort())
  )
    problems.push({ file: PACKAGE_FILES.checkpointKeys, problem: 'is not the checkpoint key you gave' });
  let checks: VerificationCheck[] = [];
  let ids: { workflowId?: string; runId?: string } = {};
  const cleared = new Set<string>();
  const blamed = new Set<string>();
  try {
    const readable = reportFromEvidence(evidence, keys);
    ids = { workflowId: readable.report.workflowId, runId: readable.report.runId };
    checks = readable.verification?.checks ?? [];
    for (const check of checks) {
      const suspects = CHAIN_FILES[check.layer];
      if (!suspects) continue;
      if (check.status === 'ok') suspects.forEach((f) => cleared.add(f));
      if (check.status !== 'failed') continue;
      // A broken link blames its files that changed; if none did, SHA256SUMS was rewritten with them.
      const changed = suspects.filter((f) => mismatched.has(f));
      for (const file of changed.length ? changed : suspects) {
        blamed.add(file);
        problems.push({ file, problem: `${check.label}: ${check.reason}` });
      }
    }
    if (reportJsonMatchesManifest(files)) cleared.add(PACKAGE_FILES.report);
    const rebuilt = new Map([
      [PACKAGE_FILES.html, Buffer.from(renderReportHtml(readable.report, readable), 'utf8')],
      [PACKAGE_FILES.signers, signersFile(readable.report)],
      [PACKAGE_FILES.readme, Buffer.from(readme(readable.report.workflowId, readable.report.runId), 'utf8')],
    ]);
    for (const [name, expected] of rebuilt) {
      if (!files.has(name)) continue;
      if (files.get(name)!.equals(expected)) cleared.add(name);
      else {
        blamed.add(name);
        problems.push({ file: name, problem: "differs from what this package's contents produce" });
      }
    }
  } catch (err) {
    problems.push({ file: PACKAGE_FILES.history, problem: `cannot be read: ${(err as Error).message}` });
  }
  for (const name of mismatched) {
    if (blamed.has(name)) continue;
    if (cleared.has(name) && !blamed.has(name))
      problems.push({
        file: PACKAGE_FILES.sums,
        problem: `lists a wrong sha256 for ${name}, which checks out otherwise`,
      });
    else if (!listed.has(name)) problems.push({ file: name, problem: 'not listed in SHA256SUMS' });
    else {
      // Nothing else vouches for this file: either it or its line in SHA256SUMS was changed.
      problems.push({ file: name, problem: 'sha256 differs from SHA256SUMS' });
      problems.push({ file: PACKAGE_FILES.sums, problem: `its line for ${name} does not match that file` });
    }
  }
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.file}\n${p.problem}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  return { ok: unique.length === 0, ...ids, problems: unique, checks };
}

/** The files each link of the chain rests on (approvals and grants are findings about the mission, not the package). */
const CHAIN_FILES: Partial<Record<VerificationCheck['layer'], string[]>> = {
  history: [PACKAGE_FILES.history, PACKAGE_FILES.manifest],
  inclusion: [PACKAGE_FILES.manifest, PACKAGE_FILES.leaf, PACKAGE_FILES.proof],
  checkpoint: [PACKAGE_FILES.checkpoint, PACKAGE_FILES.checkpointKeys],
  witnesses: [PACKAGE_FILES.checkpoint, PACKAGE_FILES.witnessPolicy],
};

/** bundle/report.json is covered by the manifest (itself covered by the chain). */
function reportJsonMatchesManifest(files: ArchiveFiles): boolean {
  try {
    const manifest = JSON.parse(files.get(PACKAGE_FILES.manifest)?.toString('utf8') ?? '') as {
      parts?: Record<string, { sha256?: string }>;
    };
    const report = files.get(PACKAGE_FILES.report);
    return Boolean(report && manifest.parts?.['report.json']?.sha256 === sha256Hex(report));
  } catch {
    return false;
  }
}

function fromFiles(files: ArchiveFiles): { evidence: BundleEvidence; keys: TrustedKeys; unreadable: string[] } {
  const f = PACKAGE_FILES;
  const unreadable: string[] = [];
  const json = <T>(name: string): T | undefined => {
    const bytes = files.get(name);
    if (!bytes) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch {
      unreadable.push(name);
      return undefined;
    }
  };
  const proof = json<ProofFile>(f.proof);
  const leaf = files.get(f.leaf);
  const evidence: BundleEvidence = {
    history: files.get(f.history) ?? Buffer.alloc(0),
    ...(files.has(f.manifest) ? { manifest: files.get(f.manifest) } : {}),
    ...(files.has(f.report) ? { report: files.get(f.report) } : {}),
    ...(leaf && proof ? { leaf: { index: proof.leafIndex, bytes: leaf } } : {}),
    ...(proof ? { proof: (proof.hashes ?? []).map((h) => Buffer.from(String(h), 'base64')) } : {}),
    ...(files.has(f.checkpoint) ? { checkpoint: files.get(f.checkpoint)!.toString('utf8') } : {}),
  };
  const witnesses = json<TrustedKeys['witnesses']>(f.witnessPolicy);
  const keys: TrustedKeys = {
    checkpoint: textLines(files.get(f.checkpointKeys)),
    ...(witnesses ? { witnesses } : {}),
    grants: splitPem(files.get(f.grantKeys)),
  };
  return { evidence, keys, unreadable };
}

/**
 * The keys the mission pinned at its start for starts, votes and controls (from its history, so
 * covered by the chain): listed for an auditor to compare with the keys their owners publish.
 */
function signersFile(report: DecisionReport): Buffer {
  return Buffer.from(`${JSON.stringify(report.trust.pinnedKeys, null, 2)}\n`, 'utf8');
}

function sums(files: ArchiveFiles): Buffer {
  const names = [...files.keys()].filter((n) => n !== PACKAGE_FILES.sums).sort();
  return Buffer.from(names.map((n) => `${sha256Hex(files.get(n)!)}  ${n}\n`).join(''), 'utf8');
}

function parseSums(bytes: Buffer | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of textLines(bytes)) {
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (match) out.set(match[2], match[1]);
  }
  return out;
}

function lines(values: readonly string[]): Buffer {
  return Buffer.from(values.map((v) => `${v.trim()}\n`).join(''), 'utf8');
}

function textLines(bytes: Buffer | undefined): string[] {
  return (bytes?.toString('utf8') ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

function readme(workflowId = '?', runId = '?'): string {
  return `Evidence package: mission ${workflowId}, run ${runId}

What is here
  bundle/history.json        the run's event history, as Temporal recorded it: the whole decision path
  bundle/report.json         the decision report derived from it (by Mandate)
  bundle/manifest.json       sha256 of both, and the run's ids
  log/leaf.json              the log leaf that commits to the manifest's sha256
  log/inclusion-proof.json   RFC 6962 inclusion proof of that leaf in the checkpoint's tree
  log/checkpoint.note        the checkpoint (C2SP signed note: origin, tree size, root hash), signed
                             with the log's key and followed by witness cosignatures (C2SP
                             tlog-cosignature, cosignature/v1)
  keys/                      the public keys in force: the checkpoint key, the witness policy, the
                             worker's grant keys, and signers.json: the keys the mission pinned at
                             its start for starts, votes and controls (taken from history.json)
  report.html                the readable report, with its verification banner
  SHA256SUMS                 sha256 of every file above

How to verify it, offline
  mandate audit verify-package <this file> [--checkpoint-key <vkey you obtained from the operator>]
  It checks every file against SHA256SUMS, rebuilds README.txt, report.html and keys/signers.json
  from the contents, and checks the chain: history.json against the manifest, the manifest against
  the leaf, the leaf's inclusion in the checkpoint's tree, the checkpoint's signature, and the
  witness cosignatures against the witness policy; then the start's, each vote's and each control's
  signature against the keys the history pinned, and each grant's signature and binding. Any
  changed file is named.

  Do not trust the keys in keys/ because they are here: obtain the checkpoint key, the witness keys
  and the signers' keys from their owners (the log's operator, each witness's operator, the
  approvals service's operator) and compare them with these.
  Without Mandate: sha256sum -c SHA256SUMS; the leaf hash is SHA-256(0x00 || leaf.json); fold the
  proof's hashes as RFC 9162 section 2.1.3.2 says and compare with the checkpoint's root; check the
  checkpoint's Ed25519 signature with any C2SP signed-note implementation (e.g. Go's
  golang.org/x/mod/sumdb/note) and the cosignatures with github.com/transparency-dev/formats/note.
`;
}
