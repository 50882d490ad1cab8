import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { checkCosignatureLine, parseCosignatureVerifierKey } from '../core/cosignature';
import { parseCheckpoint } from '../core/signed-note';
import type { AuditExporter } from './exporter';
import { currentHolds } from './hold';
import { checkpointKey, checkpointSizes, cosignatureKey } from './log';
import type { AuditStoreDescription } from './store';
import type { WitnessEndpoint } from './witness-client';
import { cosignedSizes } from './witness-client';

/**
 * `mandate audit status`: how far behind the audit trail is and what vouches for it — the export lag
 * (close to export, from the log's own leaves), closed missions not yet exported (asked of Temporal
 * when it is reachable), the latest checkpoint, each configured witness's latest cosignature in the
 * store and the size the witness itself reports, and the legal holds in force.
 */
export interface AuditStatus {
  store: AuditStoreDescription;
  log: { size: number; bundles: number; holdRecords: number };
  checkpoint?: { size: number; rootHex: string; key: string };
  lag: {
    last?: { workflowId: string; runId: string; closedAt: string; exportedAt: string; seconds: number };
    recent?: { runs: number; medianSeconds: number; maxSeconds: number };
  };
  pending: { closedNotExported: number; oldestClosedAt?: string; oldestSeconds?: number } | { error: string };
  witnesses: {
    name: string;
    keyId: string;
    url: string;
    cosigned?: { size: number; at: string; behind: number };
    reports: { size: number } | { error: string };
  }[];
  holds: { missionId: string; since: string; by: string; reason: string; keys: number }[];
}

const RECENT = 20;

export async function auditStatus(
  exporter: AuditExporter,
  options: { client?: Client; witnesses?: readonly WitnessEndpoint[]; now?: () => Date } = {},
): Promise<AuditStatus> {
  const { store, origin } = exporter.deps;
  const now = options.now?.() ?? new Date();
  const log = await exporter.openLog();
  const bundles = log.bundles();
  const records = log.records();

  // The latest checkpoint that reads back whole (an export may be writing the next one right now).
  let checkpoint: AuditStatus['checkpoint'];
  for (const size of (await checkpointSizes(store)).reverse()) {
    try {
      const note = (await store.get(checkpointKey(size))).toString('utf8');
      const parsed = parseCheckpoint(note.slice(0, note.lastIndexOf('\n\n') + 1));
      checkpoint = { size: parsed.size, rootHex: parsed.rootHash.toString('hex'), key: checkpointKey(size) };
      break;
    } catch {
      continue;
    }
  }

  const lags = bundles
    .filter((b) => b.closedAt)
    .map((b) => ({ b, seconds: (Date.parse(b.exportedAt) - Date.parse(b.closedAt!)) / 1000 }));
  const recent = lags.slice(-RECENT).map((l) => l.seconds);
  const last = lags.at(-1);

  let pending: AuditStatus['pending'] = { error: 'Temporal not asked' };
  if (options.client) {
    try {
      const found = await exporter.findUnexported(options.client, { limit: 10_000 });
      const oldest = found.runs[0]?.closeTime;
      pending = {
        closedNotExported: found.runs.length,
        ...(oldest
          ? { oldestClosedAt: oldest, oldestSeconds: round((now.getTime() - Date.parse(oldest)) / 1000) }
          : {}),
      };
    } catch (err) {
      pending = { error: (err as Error).message.split('\n')[0] };
    }
  }

  const sizes = await cosignedSizes(store);
  const witnesses: AuditStatus['witnesses'] = [];
  for (const endpoint of options.witnesses ?? []) {
    const verifier = parseCosignatureVerifierKey(endpoint.verifierKey);
    const mine = (sizes.get(verifier.keyId) ?? []).sort((a, b) => a - b);
    const size = mine.at(-1);
    let cosigned: AuditStatus['witnesses'][number]['cosigned'];
    if (size !== undefined) {
      const note = (await store.get(checkpointKey(size))).toString('utf8');
      const line = (await store.get(cosignatureKey(size, verifier.keyId))).toString('utf8');
      const signature = checkCosignatureLine(note.slice(0, note.lastIndexOf('\n\n') + 1), line, [verifier]);
      cosigned = {
        size,
        at: new Date((signature?.timestamp ?? 0) * 1000).toISOString(),
        behind: (checkpoint?.size ?? size) - size,
      };
    }
    witnesses.push({
      name: verifier.name,
      keyId: verifier.keyId.toString(16).padStart(8, '0'),
      url: endpoint.url,
      ...(cosigned ? { cosigned } : {}),
      reports: await witnessReports(endpoint.url, origin),
    });
  }

  const holds = [...currentHolds(records).values()]
    .filter((h) => h.hold)
    .map((h) => ({ missionId: h.missionId, since: h.at, by: h.by, reason: h.reason, keys: h.keys.length }));

  return {
    store: store.describe(),
    log: { size: log.size, bundles: bundles.length, holdRecords: records.length - bundles.length },
    ...(checkpoint ? { checkpoint } : {}),
    lag: {
      ...(last
        ? {
            last: {
              workflowId: last.b.workflowId,
              runId: last.b.runId,
              closedAt: last.b.closedAt!,
              exportedAt: last.b.exportedAt,
              seconds: round(last.seconds),
            },
          }
        : {}),
      ...(recent.length
        ? {
            recent: {
              runs: recent.length,
              medianSeconds: round(median(recent)),
              maxSeconds: round(Math.max(...recent)),
            },
          }
        : {}),
    },
    pending,
    witnesses,
    holds,
  };
}

/** The size of the latest checkpoint the witness says it cosigned for this log (its monitoring endpoint). */
async function witnessReports(url: string, origin: string): Promise<{ size: number } | { error: string }> {
  const hash = createHash('sha256').update(origin, 'utf8').digest('hex');
  try {
    const response = await fetch(new URL(`${hash}/checkpoint`, url.endsWith('/') ? url : `${url}/`), {
      signal: AbortSignal.timeout(3_000),
    });
    if (response.status === 404) return { size: 0 };
    if (!response.ok) return { error: `HTTP ${response.status}` };
    const text = await response.text();
    return { size: parseCheckpoint(text.slice(0, text.lastIndexOf('\n\n') + 1)).size };
  } catch (err) {
    return { error: `unreachable: ${(err as Error).message}` };
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
