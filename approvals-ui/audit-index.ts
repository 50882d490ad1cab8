import { AuditLog } from '../audit/log';
import type { LogEntry } from '../audit/log';
import type { ReadableReport } from '../audit/readable-report';
import { reportForBundle } from '../audit/readable-report';
import type { TrustedKeys } from '../audit/report-verification';
import type { AuditStore } from '../audit/store';
import type { StoreEvidence } from '../audit/evidence';
import type { KeyRing } from '../core/payload-encryption';
import { UnknownEncryptionKey } from '../core/payload-encryption';

/**
 * What the Audit page lists: every exported mission run, newest first, with its verdict, approvers
 * and verification status — each verified from the store with the service's trusted keys. A row is
 * computed once per bundle and latest checkpoint (a new checkpoint can add cosignatures).
 */
export interface AuditPageOptions {
  store: AuditStore;
  origin: string;
  keys: TrustedKeys;
  /** Chromium for the PDF link (default Debian's). */
  chromium?: string;
  /**
   * The service's key ring: bundles hold encrypted histories as stored, and the reports read them
   * through it. Verification needs no key; without one (or for a key the ring lacks), encrypted
   * payloads show as unreadable and their signatures as not checked.
   */
  keyRing?: KeyRing;
}

export interface AuditRow {
  workflowId: string;
  runId: string;
  missionType?: string;
  verdict?: string;
  status: string;
  closedAt?: string;
  approvers: string[];
  verification: 'verified' | 'failed' | 'partly verified';
  failed: string[];
}

export interface AuditFilters {
  type?: string;
  verdict?: string;
  approver?: string;
  /** yyyy-mm-dd, inclusive, on the close date (UTC). */
  from?: string;
  to?: string;
}

const MAX_ROWS = 500;

export class AuditIndex {
  private readonly rows = new Map<string, AuditRow>();

  constructor(readonly options: AuditPageOptions) {}

  async list(filters: AuditFilters): Promise<{ rows: AuditRow[]; types: string[]; verdicts: string[] }> {
    const log = await AuditLog.load(this.options.store, this.options.origin);
    const entries = log.bundles().slice(-MAX_ROWS).reverse();
    const all: AuditRow[] = [];
    for (const entry of entries) all.push(await this.row(log, entry));
    const needle = filters.approver?.toLowerCase();
    const rows = all.filter(
      (r) =>
        (!filters.type || r.missionType === filters.type) &&
        (!filters.verdict || r.verdict === filters.verdict) &&
        (!needle || r.approvers.some((a) => a.toLowerCase().includes(needle))) &&
        (!filters.from || (r.closedAt ?? '').slice(0, 10) >= filters.from) &&
        (!filters.to || (r.closedAt ?? '').slice(0, 10) <= filters.to),
    );
    const distinct = (values: (string | undefined)[]) => [...new Set(values.filter((v): v is string => !!v))].sort();
    return { rows, types: distinct(all.map((r) => r.missionType)), verdicts: distinct(all.map((r) => r.verdict)) };
  }

  /** The readable report of one run, verified against the store (for the report, PDF and package). */
  async report(
    workflowId: string,
    runId: string,
    checkpoint: 'latest' | 'earliest' = 'latest',
  ): Promise<(ReadableReport & { evidence: StoreEvidence }) | undefined> {
    const log = await AuditLog.load(this.options.store, this.options.origin);
    if (!log.bundles().some((b) => b.workflowId === workflowId && b.runId === runId)) return undefined;
    return this.read(log, workflowId, runId, checkpoint);
  }

  private async read(log: AuditLog, workflowId: string, runId: string, checkpoint: 'latest' | 'earliest' = 'latest') {
    const { store, keys, keyRing } = this.options;
    try {
      return await reportForBundle(store, log, workflowId, runId, keys, { checkpoint, keyRing });
    } catch (err) {
      if (!(err instanceof UnknownEncryptionKey)) throw err;
      return reportForBundle(store, log, workflowId, runId, keys, { checkpoint });
    }
  }

  private async row(log: AuditLog, entry: LogEntry): Promise<AuditRow> {
    const cacheKey = `${entry.manifestSha256}@${log.size}`;
    const cached = this.rows.get(cacheKey);
    if (cached) return cached;
    let row: AuditRow;
    try {
      const { report, verification } = await this.read(log, entry.workflowId, entry.runId);
      const { approvals, outcome } = report.layers;
      row = {
        workflowId: entry.workflowId,
        runId: entry.runId,
        missionType: report.missionType,
        verdict: outcome.verdict,
        status: outcome.status,
        closedAt: report.closedAt ?? entry.closedAt,
        approvers: [...new Set(approvals.filter((a) => a.via !== 'timeout').map((a) => a.approver ?? '?'))],
        verification: verification?.status ?? 'partly verified',
        failed: (verification?.checks ?? []).filter((c) => c.status === 'failed').map((c) => c.label),
      };
    } catch (err) {
      row = {
        workflowId: entry.workflowId,
        runId: entry.runId,
        status: 'unreadable',
        closedAt: entry.closedAt,
        approvers: [],
        verification: 'failed',
        failed: [`bundle cannot be read: ${(err as Error).message}`],
      };
    }
    this.rows.set(cacheKey, row);
    return row;
  }
}
