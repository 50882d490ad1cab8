import { Context } from '@temporalio/activity';
import type { z } from 'zod';
import type { AuditDeps, CheckpointResult, ExportRunResult, FindInput, FindResult, RunRef } from '../audit/exporter';
import { AuditExporter } from '../audit/exporter';

/**
 * The audit export workflow's activities, thin over the exporter library. `deps` may be a factory,
 * called once on first use, so a worker that never exports opens no store.
 */
export function createAuditActivities(deps: AuditDeps | (() => Promise<AuditDeps>)) {
  let exporter: Promise<AuditExporter> | undefined;
  const get = () =>
    (exporter ??= (typeof deps === 'function' ? deps() : Promise.resolve(deps)).then((d) => new AuditExporter(d)));
  const client = (e: AuditExporter) => e.deps.client ?? Context.current().client;
  return {
    /** Returns once the run has closed (the export on close is started just before the mission closes). */
    async auditAwaitRunClosed(input: RunRef): Promise<{ status: string; closeTime?: string }> {
      const e = await get();
      const ctx = Context.current();
      return e.awaitClosed(client(e), input, async (ms) => {
        ctx.heartbeat();
        await ctx.sleep(ms);
      });
    },
    async auditFindUnexported(input: z.input<typeof FindInput>): Promise<FindResult> {
      const e = await get();
      return e.findUnexported(client(e), input);
    },
    async auditExportRun(input: RunRef): Promise<ExportRunResult> {
      const e = await get();
      return e.exportRun(client(e), input);
    },
    async auditCheckpoint(): Promise<CheckpointResult> {
      return (await get()).checkpoint();
    },
  };
}

export type AuditActivities = ReturnType<typeof createAuditActivities>;
export type { ExportRunResult } from '../audit/exporter';
