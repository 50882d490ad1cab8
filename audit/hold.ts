import { keySegment } from './bundle';
import type { AuditExporter, CheckpointResult } from './exporter';
import type { HoldRecord, LeafRecord } from './log';
import { isHoldRecord, leafKey } from './log';

/**
 * Legal hold on a mission's audit objects (every run's bundle): placed or lifted in the store — S3's
 * legal-hold flag on every object version, the immutable flag on the filesystem — and recorded in
 * the Merkle log with who, when and why, then checkpointed (and witnessed) like any other leaf.
 * A hold is placed before it is recorded, and a release recorded before it is lifted, so a failure
 * in between never leaves a recorded hold that is not in force unnoticed: `audit verify` checks that
 * every recorded hold is in force.
 */
export interface HoldRequest {
  missionId: string;
  reason: string;
  /** Who asks (the operator's identity). */
  by: string;
  now?: () => Date;
}

export interface HoldOutcome {
  missionId: string;
  hold: boolean;
  /** Store keys covered, and object versions changed. */
  keys: number;
  versions: number;
  leaf: string;
  checkpoint: CheckpointResult;
}

/** The mission has no exported bundle, or (to release) is not under hold. */
export class HoldRefused extends Error {
  override name = 'HoldRefused';
}

export async function setLegalHold(exporter: AuditExporter, hold: boolean, request: HoldRequest): Promise<HoldOutcome> {
  const { store } = exporter.deps;
  const reason = request.reason.trim();
  if (!reason) throw new HoldRefused('a reason is required');
  const log = await exporter.openLog();
  const keys = await store.list(`bundles/${keySegment(request.missionId)}/`);
  if (!keys.length) {
    throw new HoldRefused(
      `no exported bundle of mission ${request.missionId} in ${store.describe().location} (export it first: mandate audit export --mission ${request.missionId})`,
    );
  }
  const current = currentHolds(log.records()).get(request.missionId);
  if (!hold && !current?.hold) throw new HoldRefused(`mission ${request.missionId} is not under legal hold`);
  const fields = {
    missionId: request.missionId,
    hold,
    reason,
    by: request.by,
    at: (request.now?.() ?? new Date()).toISOString(),
    keys,
  };
  let record: HoldRecord;
  let versions: number;
  if (hold) {
    versions = (await store.setLegalHold(keys, true)).length;
    record = await log.appendHold(fields);
  } else {
    record = await log.appendHold(fields);
    versions = (await store.setLegalHold(keys, false)).length;
  }
  const checkpoint = await exporter.checkpoint();
  return { missionId: request.missionId, hold, keys: keys.length, versions, leaf: leafKey(record.index), checkpoint };
}

/** The latest hold record per mission, in log order. */
export function currentHolds(records: readonly LeafRecord[]): Map<string, HoldRecord> {
  const holds = new Map<string, HoldRecord>();
  for (const record of records) if (isHoldRecord(record)) holds.set(record.missionId, record);
  return holds;
}
