import { canonicalJson } from '../core/hash';
import type { HistoryJson } from './history';
import { canonicalHistoryBytes } from './history';
import type { DecisionReport, RunFacts } from './report';
import { buildDecisionReport } from './report';
import { sha256Hex } from '../core/hash';

/**
 * An audit bundle: the three parts exported for one closed run, under
 * `bundles/<workflowId>/<runId>/` in the store:
 *
 *   history.json   the event history, byte-for-byte the stock `temporal workflow show --output json` norm
 *   report.json    the decision report (canonical JSON), derived from history.json alone
 *   manifest.json  canonical JSON: sha256 and size of each part, ids, versions, build ids
 *
 * Every part is a pure function of the history, so exporting the same run twice produces the same
 * bytes: the write-once store sees identical content and writes nothing. For that reason the export
 * time is *not* in the manifest; it lives in the run's Merkle log leaf (see log.ts), which is only
 * ever appended once per manifest.
 */
export const MANIFEST_SCHEMA = 'mandate.audit.manifest/v1';
export const PART_NAMES = ['history.json', 'report.json'] as const;
export type PartName = (typeof PART_NAMES)[number];

export interface BundleManifest extends RunFacts {
  schema: typeof MANIFEST_SCHEMA;
  workflowId: string;
  runId: string;
  status: string;
  parts: Record<PartName, { sha256: string; size: number }>;
}

export interface Bundle {
  workflowId: string;
  runId: string;
  /** Store key prefix, ending in '/'. */
  prefix: string;
  parts: Record<PartName, Buffer>;
  manifest: BundleManifest;
  manifestBytes: Buffer;
  manifestSha256: string;
  report: DecisionReport;
}

/** Builds a bundle from a history (proto JSON of `temporal workflow show --output json`). */
export function buildBundle(history: HistoryJson): Bundle {
  const historyBytes = canonicalHistoryBytes(history);
  const report = buildDecisionReport(JSON.parse(historyBytes.toString('utf8')) as HistoryJson);
  if (!report.workflowId || !report.runId) throw new Error('history has no WorkflowExecutionStarted event with ids');
  const reportBytes = jsonBytes(report);
  const parts: Record<PartName, Buffer> = { 'history.json': historyBytes, 'report.json': reportBytes };
  const manifest: BundleManifest = {
    schema: MANIFEST_SCHEMA,
    workflowId: report.workflowId,
    runId: report.runId,
    workflowType: report.workflowType,
    missionType: report.missionType,
    definitionVersion: report.definitionVersion,
    policyVersions: report.policyVersions,
    workerBuildIds: report.workerBuildIds,
    startedAt: report.startedAt,
    closedAt: report.closedAt,
    status: report.layers.outcome.status,
    parts: {
      'history.json': { sha256: sha256Hex(historyBytes), size: historyBytes.length },
      'report.json': { sha256: sha256Hex(reportBytes), size: reportBytes.length },
    },
  };
  const manifestBytes = jsonBytes(manifest);
  return {
    workflowId: report.workflowId,
    runId: report.runId,
    prefix: bundlePrefix(report.workflowId, report.runId),
    parts,
    manifest,
    manifestBytes,
    manifestSha256: sha256Hex(manifestBytes),
    report,
  };
}

/** Canonical JSON (sorted keys, no whitespace) plus a final newline. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(`${canonicalJson(value)}\n`, 'utf8');
}

/** `bundles/<workflowId>/<runId>/`, with ids outside the key charset escaped reversibly. */
export function bundlePrefix(workflowId: string, runId: string): string {
  return `bundles/${keySegment(workflowId)}/${keySegment(runId)}/`;
}

export function manifestKey(workflowId: string, runId: string): string {
  return `${bundlePrefix(workflowId, runId)}manifest.json`;
}

/**
 * Ids that are safe key segments (and do not start with `_`) stay readable; anything else becomes `_`
 * + hex of its UTF-8 (or `_h` + its sha256 when too long), so distinct ids never share a segment.
 */
export function keySegment(id: string): string {
  if (/^[A-Za-z0-9-][A-Za-z0-9._-]{0,200}$/.test(id)) return id;
  const hex = Buffer.from(id, 'utf8').toString('hex');
  return hex.length <= 200 ? `_${hex}` : `_h${sha256Hex(Buffer.from(id, 'utf8'))}`;
}
