import { createPublicKey } from 'node:crypto';
import { checkCosignatureLine, splitNote } from '../core/cosignature';
import { ed25519KeyId } from '../core/ed25519';
import { verifyGrant } from '../core/grant';
import { sha256Hex } from '../core/hash';
import { leafHash, verifyInclusion } from '../core/merkle';
import { openNote, parseCheckpoint } from '../core/signed-note';
import type { BundleManifest } from './bundle';
import type { LogEntry } from './log';
import type { DecisionReport, ReportSignature } from './report';
import type { WitnessPolicy } from './witness-policy';
import { parseWitnessPolicy } from './witness-policy';

/**
 * The verification banner of a decision report: for one bundle, each link an auditor relies on,
 * checked from the evidence alone — the history against its manifest, the manifest's leaf included
 * in a checkpoint, the checkpoint's signature, the witnesses' cosignatures, each approval's
 * signature, the start's and each applied control's (against the keys pinned in the history), and
 * each grant's signature and binding. Each check is ✓ ok, ✗ failed or – not checked,
 * with the reason and the key id that vouched. The same evidence comes from a store (the CLI, the
 * approvals service's Audit page) or from an evidence package (verify-package, offline).
 */
export type CheckStatus = 'ok' | 'failed' | 'not checked';

export interface VerificationCheck {
  /** Which link: history, inclusion, checkpoint, witnesses, start, approval, control, grant. */
  layer: 'history' | 'inclusion' | 'checkpoint' | 'witnesses' | 'start' | 'approval' | 'control' | 'grant';
  label: string;
  status: CheckStatus;
  reason: string;
  keyId?: string;
}

export interface ReportVerification {
  status: 'verified' | 'failed' | 'partly verified';
  checks: VerificationCheck[];
}

/** What a bundle's verification rests on; any of it may be missing (then that check is "not checked"). */
export interface BundleEvidence {
  history: Buffer;
  manifest?: Buffer;
  /** The bundle's report.json: shown when history.json itself cannot be read. */
  report?: Buffer;
  leaf?: { index: number; bytes: Buffer };
  /** RFC 6962 inclusion proof of the leaf in the checkpoint's tree. */
  proof?: Buffer[];
  /** The checkpoint note, with any witness cosignature lines after the log's signature. */
  checkpoint?: string;
}

export interface TrustedKeys {
  /** Checkpoint verifier keys (C2SP note vkeys). */
  checkpoint: readonly string[];
  witnesses?: WitnessPolicy;
  /** The worker's grant public keys (SPKI PEM). */
  grants?: readonly string[];
}

export function verifyEvidence(
  report: DecisionReport,
  evidence: BundleEvidence,
  keys: TrustedKeys,
): ReportVerification {
  const checks: VerificationCheck[] = [];
  const add = (check: VerificationCheck) => checks.push(check);

  // 1. The history against its manifest.
  let manifest: BundleManifest | undefined;
  try {
    manifest = evidence.manifest ? (JSON.parse(evidence.manifest.toString('utf8')) as BundleManifest) : undefined;
  } catch {
    manifest = undefined;
  }
  const historySha = sha256Hex(evidence.history);
  const recorded = manifest?.parts?.['history.json']?.sha256;
  if (!evidence.manifest)
    add(notChecked('history', 'History hash', 'a history on its own: no manifest to check it against'));
  else if (!recorded) add(failed('history', 'History hash', 'the manifest is unreadable or lists no history.json'));
  else if (recorded !== historySha)
    add(
      failed(
        'history',
        'History hash',
        `history.json sha256 ${short(historySha)} differs from the manifest's ${short(recorded)}`,
      ),
    );
  else add(ok('history', 'History hash', `sha256 ${short(historySha)} matches the manifest`));

  // 2 and 3. The checkpoint's signature, then the leaf's inclusion in its tree.
  let checkpoint: { size: number; root: Buffer; body: string; lines: string[] } | undefined;
  if (!evidence.checkpoint)
    add(notChecked('checkpoint', 'Checkpoint signature', 'no checkpoint (the bundle is not in a store or package)'));
  else {
    try {
      const { body, lines } = splitNote(evidence.checkpoint);
      const parsed = parseCheckpoint(body);
      checkpoint = { size: parsed.size, root: parsed.rootHash, body, lines };
      if (!keys.checkpoint.length)
        add(notChecked('checkpoint', 'Checkpoint signature', 'no checkpoint verifier key given'));
      else {
        // Witness cosignature lines are signatures by other keys: the note check ignores them.
        const opened = openNote(evidence.checkpoint, keys.checkpoint);
        const by = opened.verified[0];
        add(
          ok(
            'checkpoint',
            'Checkpoint signature',
            `checkpoint of size ${parsed.size} signed by ${by.name}`,
            hex8(by.keyId),
          ),
        );
      }
    } catch (err) {
      add(failed('checkpoint', 'Checkpoint signature', `checkpoint does not verify: ${(err as Error).message}`));
    }
  }
  add(inclusion(evidence, manifest ? sha256Hex(evidence.manifest!) : undefined, checkpoint));

  // 4. Witnesses.
  if (checkpoint) add(witnessCheck(checkpoint, keys.witnesses));
  else add(notChecked('witnesses', 'Witness cosignatures', 'no checkpoint'));

  // 5. The start, each vote and each applied control, as the report checked them against the keys
  // the history pinned at loadMission (core/attestation, the code the workflow runs).
  for (const check of signatureChecks(report)) add(check);

  // 6. Each grant's signature and binding.
  for (const action of report.layers.action.filter((x) => x.grant !== undefined)) {
    add(grantCheck(report, action.actionId, action.grant, action.grantBinding, keys.grants));
  }

  const status = checks.some((c) => c.status === 'failed')
    ? 'failed'
    : checks.every((c) => c.status === 'ok')
      ? 'verified'
      : 'partly verified';
  return { status, checks };
}

/** The start, votes and controls: ✓ when signed by a key the history pinned for that purpose. */
function signatureChecks(report: DecisionReport): VerificationCheck[] {
  const checks: VerificationCheck[] = [];
  const signed = (
    layer: 'start' | 'approval' | 'control',
    label: string,
    sig: ReportSignature,
    counted: boolean,
  ): VerificationCheck => {
    const base = { layer, label, ...(sig.keyId ? { keyId: sig.keyId } : {}) };
    if (sig.signature === 'valid')
      return {
        ...base,
        status: 'ok',
        reason: `signed with a key pinned in the history${sig.breakGlass ? ' (break-glass)' : ''}`,
      };
    // An encrypted message (a report read without the key ring) is on record but unread: not checked.
    if (sig.signature === 'encrypted')
      return { ...base, status: 'not checked', reason: 'encrypted: read the report with the key ring to check it' };
    const why = sig.signature === 'absent' ? 'unsigned' : `signature does not verify: ${sig.signatureProblem ?? '?'}`;
    // A vote the mission refused or did not count is on record, but decided nothing.
    return { ...base, status: counted ? 'failed' : 'not checked', reason: counted ? why : `${why} (not counted)` };
  };
  const start = report.trust.start;
  if (start.carried)
    checks.push(notChecked('start', `Start by ${start.initiator ?? '?'}`, 'a continuation: checked in the first run'));
  else checks.push(signed('start', `Start by ${start.initiator ?? '?'}`, start, true));
  for (const a of report.layers.approvals.filter((x) => x.via !== 'timeout')) {
    const label = `Approval: ${a.approver ?? '?'} ${a.decision ?? '?'} ${a.actionId ?? ''}${a.result === 'refused' ? ' (refused)' : ''}`;
    checks.push(signed('approval', label, a, a.result === 'accepted'));
  }
  for (const c of report.trust.controls)
    checks.push(signed('control', `Control: ${c.kind ?? '?'} by ${c.by ?? '?'}`, c, true));
  return checks;
}

function inclusion(
  evidence: BundleEvidence,
  manifestSha: string | undefined,
  checkpoint: { size: number; root: Buffer } | undefined,
): VerificationCheck {
  const label = 'Merkle inclusion';
  if (!evidence.leaf || !evidence.proof || !checkpoint)
    return notChecked('inclusion', label, 'no log leaf, proof or checkpoint for this bundle');
  let leaf: LogEntry;
  try {
    leaf = JSON.parse(evidence.leaf.bytes.toString('utf8')) as LogEntry;
  } catch {
    return failed('inclusion', label, 'the log leaf is not valid JSON');
  }
  if (!manifestSha) return failed('inclusion', label, 'no readable manifest to find in the log');
  if (leaf.manifestSha256 !== manifestSha)
    return failed(
      'inclusion',
      label,
      `leaf ${evidence.leaf.index} records manifest ${short(leaf.manifestSha256)}, not this one (${short(manifestSha)})`,
    );
  if (
    !verifyInclusion(
      leafHash(evidence.leaf.bytes),
      evidence.leaf.index,
      checkpoint.size,
      evidence.proof,
      checkpoint.root,
    )
  )
    return failed(
      'inclusion',
      label,
      `leaf ${evidence.leaf.index} is not included in the checkpoint of size ${checkpoint.size}`,
    );
  return ok('inclusion', label, `leaf ${evidence.leaf.index} is included in the checkpoint of size ${checkpoint.size}`);
}

function witnessCheck(
  checkpoint: { body: string; lines: string[] },
  policy: WitnessPolicy | undefined,
): VerificationCheck {
  const label = 'Witness cosignatures';
  const candidates = checkpoint.lines;
  const others = candidates.length - 1; // the log's own signature is one of the lines
  if (!policy)
    return notChecked(
      'witnesses',
      label,
      others > 0
        ? `${others} other signature(s) present; no witness policy given`
        : 'none present; no witness policy given',
    );
  const { verifiers, quorum } = parseWitnessPolicy(policy);
  const valid = new Map<number, string>();
  const problems: string[] = [];
  for (const line of candidates) {
    try {
      const c = checkCosignatureLine(checkpoint.body, line, verifiers);
      if (c) valid.set(c.keyId, c.name);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const names = [...valid.values()].join(', ');
  if (problems.length) return failed('witnesses', label, problems.join('; '));
  if (valid.size < quorum)
    return failed('witnesses', label, `${valid.size} of the ${quorum} needed${names ? ` (${names})` : ''}`);
  return ok(
    'witnesses',
    label,
    `cosigned by ${valid.size} of ${verifiers.length} policy witness(es): ${names}`,
    [...valid.keys()].map(hex8).join(', '),
  );
}

function grantCheck(
  report: DecisionReport,
  actionId: string | undefined,
  grant: unknown,
  binding: string | undefined,
  keys: readonly string[] | undefined,
): VerificationCheck {
  const label = `Grant for ${actionId ?? '?'}`;
  const keyId =
    typeof (grant as { keyId?: unknown }).keyId === 'string' ? (grant as { keyId: string }).keyId : undefined;
  const base = { layer: 'grant' as const, label, ...(keyId ? { keyId } : {}) };
  if (binding && !binding.startsWith('bound')) return { ...base, status: 'failed', reason: binding };
  if (!keys?.length)
    return {
      ...base,
      status: 'not checked',
      reason: `${binding ?? 'binding unknown'}; no grant public key given for the signature`,
    };
  const decision = report.layers.decision.find((d) => d.actionId === actionId);
  const policyVersion = report.layers.policy.find((p) => p.actionId === actionId)?.policyVersion;
  const claims = (grant as { claims?: { issuedAt?: string } }).claims;
  const at = claims?.issuedAt ? new Date(Date.parse(claims.issuedAt) + 1) : new Date(0);
  const publicKeys = Object.fromEntries(keys.map((pem) => [ed25519KeyId(createPublicKey(pem)), pem]));
  const result = verifyGrant(
    grant,
    {
      missionId: report.workflowId ?? '',
      actionId: actionId ?? '',
      operation: decision?.operation ?? '',
      params: decision?.params ?? {},
      policyVersion: policyVersion ?? '',
    },
    { publicKeys },
    at,
  );
  return result.ok
    ? { ...base, status: 'ok', reason: 'signature verifies; bound to this mission, action, params and policy version' }
    : { ...base, status: 'failed', reason: result.message };
}

const ok = (layer: VerificationCheck['layer'], label: string, reason: string, keyId?: string): VerificationCheck => ({
  layer,
  label,
  status: 'ok',
  reason,
  ...(keyId ? { keyId } : {}),
});
const failed = (layer: VerificationCheck['layer'], label: string, reason: string): VerificationCheck => ({
  layer,
  label,
  status: 'failed',
  reason,
});
const notChecked = (layer: VerificationCheck['layer'], label: string, reason: string): VerificationCheck => ({
  layer,
  label,
  status: 'not checked',
  reason,
});
const short = (hex: string) => `${hex.slice(0, 12)}…`;
const hex8 = (n: number) => n.toString(16).padStart(8, '0');
