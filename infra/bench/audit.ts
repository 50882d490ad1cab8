import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { AuditExporter } from '../../audit/exporter';
import type { HistoryJson } from '../../audit/history';
import { parseHistoryJson } from '../../audit/history';
import { FsAuditStore } from '../../audit/store-fs';
import { verifyAuditStore } from '../../audit/verify';
import { generateKeyPair } from '../../core/signed-note';

/**
 * Audit throughput on the filesystem store (fsync per object): export of the bench's real closed
 * missions (history fetch + bundle + leaf + checkpoint), then of `synthetic` copies of one history
 * under fresh ids (no server cost: bundling, hashing, write-once writes), then a full verify.
 */
export interface AuditBenchResult {
  real: { bundles: number; seconds: number; bundlesPerSecond: number };
  synthetic: { bundles: number; seconds: number; bundlesPerSecond: number; leavesPerSecond: number };
  verify: { bundles: number; leaves: number; seconds: number; bundlesPerSecond: number; leavesPerSecond: number };
}

export async function benchAudit(client: Client, taskQueue: string, synthetic: number): Promise<AuditBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-audit-'));
  try {
    const keys = generateKeyPair('mandate-bench');
    const origin = 'mandate/audit/bench';
    const store = new FsAuditStore({ root: dir });
    const exporter = new AuditExporter({ store, signerKey: keys.signerKey, origin });

    let start = performance.now();
    const { runs } = await exporter.findUnexported(client, { taskQueue, limit: 10_000 });
    for (const run of runs) await exporter.exportRun(client, run);
    await exporter.checkpoint();
    const realSeconds = (performance.now() - start) / 1000;

    const template = await store.get((await store.list('bundles/')).find((k) => k.endsWith('/history.json'))!);
    start = performance.now();
    for (let i = 0; i < synthetic; i++) {
      await exporter.exportHistory(copyWithIds(parseHistoryJson(template), i));
      if ((i + 1) % 100 === 0) await exporter.checkpoint();
    }
    await exporter.checkpoint();
    const syntheticSeconds = (performance.now() - start) / 1000;

    start = performance.now();
    const verified = await verifyAuditStore(store, { verifierKeys: [keys.verifierKey], origin });
    const verifySeconds = (performance.now() - start) / 1000;
    if (!verified.ok) throw new Error(`bench store does not verify: ${JSON.stringify(verified.problems[0])}`);

    const rate = (n: number, s: number) => round(n / s);
    return {
      real: { bundles: runs.length, seconds: round(realSeconds), bundlesPerSecond: rate(runs.length, realSeconds) },
      synthetic: {
        bundles: synthetic,
        seconds: round(syntheticSeconds),
        bundlesPerSecond: rate(synthetic, syntheticSeconds),
        leavesPerSecond: rate(synthetic, syntheticSeconds),
      },
      verify: {
        bundles: verified.counts.bundles,
        leaves: verified.counts.leaves,
        seconds: round(verifySeconds),
        bundlesPerSecond: rate(verified.counts.bundles, verifySeconds),
        leavesPerSecond: rate(verified.counts.leaves, verifySeconds),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function copyWithIds(history: HistoryJson, i: number): HistoryJson {
  const started = history.events[0].workflowExecutionStartedEventAttributes as Record<string, string>;
  started.workflowId = `bench-synthetic-${i}`;
  started.originalExecutionRunId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return history;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
