import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { AuditExporter } from '../audit/exporter';
import type { HoldOutcome } from '../audit/hold';
import { setLegalHold } from '../audit/hold';
import { openAuditStore, resolveAuditKeys, witnessEndpoints } from '../audit/setup';
import type { AuditStatus } from '../audit/status';
import { auditStatus } from '../audit/status';
import { connectClient } from '../client/connect';
import type { AuditIo, Globals } from './audit';
import { auditConfig, keysFor, stdio, storeOptions, witnessLine } from './audit';
import { cliConfig } from './context';
import { printJson } from './output';

/**
 * `mandate audit hold|release|status`: legal holds on a mission's audit objects (placed in the
 * store and recorded in the log), and the state of the audit trail — export lag, latest checkpoint,
 * witnesses, holds in force.
 */
export async function auditHold(
  exporter: AuditExporter,
  hold: boolean,
  request: { missionId: string; reason: string; by: string },
  options: { json?: boolean; io?: AuditIo } = {},
): Promise<HoldOutcome> {
  const io = options.io ?? stdio;
  const outcome = await setLegalHold(exporter, hold, request);
  if (options.json) printJson(outcome);
  else {
    io.out(
      `${hold ? 'legal hold placed on' : 'legal hold lifted from'} mission ${outcome.missionId}: ${outcome.keys} object(s), ${outcome.versions} version(s); recorded as ${outcome.leaf}, checkpoint ${outcome.checkpoint.size}`,
    );
    for (const w of outcome.checkpoint.witnesses) io.out(witnessLine(w));
  }
  return outcome;
}

export function printStatus(status: AuditStatus, io: AuditIo = stdio): void {
  const { store, log, checkpoint, lag, pending, witnesses, holds } = status;
  io.out(`store        ${store.location} (${store.kind}; ${store.guarantee})`);
  if (store.retentionDays)
    io.out(`retention    ${store.retentionDays} day(s)${store.legalHold ? ', legal hold on every object' : ''}`);
  io.out(`log          ${log.size} leaves: ${log.bundles} bundle(s), ${log.holdRecords} legal-hold record(s)`);
  io.out(checkpoint ? `checkpoint   size ${checkpoint.size}, root ${checkpoint.rootHex}` : 'checkpoint   none yet');
  if (lag.last)
    io.out(
      `export lag   last run ${lag.last.seconds} s after its close (${lag.last.workflowId}); ` +
        `median ${lag.recent!.medianSeconds} s, max ${lag.recent!.maxSeconds} s over the last ${lag.recent!.runs}`,
    );
  else io.out('export lag   no run exported yet');
  if ('error' in pending) io.out(`waiting      unknown (${pending.error})`);
  else
    io.out(
      `waiting      ${pending.closedNotExported} closed mission run(s) not yet exported` +
        (pending.oldestClosedAt ? `, the oldest closed ${pending.oldestSeconds} s ago` : ''),
    );
  if (!witnesses.length) io.out('witnesses    none configured (MANDATE_AUDIT_WITNESSES)');
  for (const w of witnesses) {
    const stored = w.cosigned
      ? `cosigned checkpoint ${w.cosigned.size} at ${w.cosigned.at}${w.cosigned.behind ? ` (${w.cosigned.behind} leaves behind)` : ''}`
      : 'no cosignature in the store yet';
    const reports = 'error' in w.reports ? w.reports.error : `reports size ${w.reports.size}`;
    io.out(`witness      ${w.name} (${w.keyId}) ${w.url}: ${stored}; ${reports}`);
  }
  if (!holds.length) io.out('legal holds  none');
  for (const h of holds)
    io.out(`legal hold   ${h.missionId} since ${h.since} by ${h.by}: ${h.reason} (${h.keys} object(s))`);
}

/** Adds `hold`, `release` and `status` to `mandate audit`. */
export function registerAuditTrustCommands(audit: Command): void {
  const exporterFor = async (opts: { store?: string; dir?: string }) => {
    const config = auditConfig(opts);
    const keys = keysFor(config, stdio);
    if (!keys.signerKey)
      throw new Error('recording a legal hold needs the checkpoint signer key: set MANDATE_AUDIT_SIGNER_KEY');
    return new AuditExporter({
      store: await openAuditStore(config),
      signerKey: keys.signerKey,
      origin: config.origin,
      witnesses: witnessEndpoints(config),
    });
  };
  for (const hold of [true, false]) {
    storeOptions(audit.command(`${hold ? 'hold' : 'release'} <missionId>`))
      .description(
        hold
          ? "place a legal hold on a mission's audit objects (no deletion until released), recorded in the log"
          : 'lift a legal hold (retention still applies), recorded in the log',
      )
      .requiredOption('--reason <text>', 'why (recorded in the log)')
      .option('--as <who>', 'who asks (default $MANDATE_USER or your login)')
      .action(
        async (
          missionId: string,
          opts: { reason: string; as?: string; store?: string; dir?: string },
          cmd: Command,
        ) => {
          const exporter = await exporterFor(opts);
          await auditHold(
            exporter,
            hold,
            { missionId, reason: opts.reason, by: opts.as ?? cliConfig().user },
            { json: cmd.optsWithGlobals<Globals>().json },
          );
        },
      );
  }

  storeOptions(audit.command('status'))
    .description('export lag, closed runs not yet exported, the latest checkpoint, witnesses and legal holds')
    .action(async (opts: { store?: string; dir?: string }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<Globals>();
      const config = auditConfig(opts);
      const keys = resolveAuditKeys(config, false);
      const exporter = new AuditExporter({
        store: await openAuditStore(config, false),
        signerKey: keys.signerKey ?? '',
        origin: config.origin,
      });
      const { temporal } = cliConfig();
      let client: Client | undefined;
      let close = async () => undefined as void;
      try {
        const connection = await connectClient({
          address: globals.address ?? temporal.address,
          namespace: globals.namespace ?? temporal.namespace,
        });
        client = connection.client;
        close = connection.close;
      } catch {
        // Status still reports everything the store knows; "waiting" then says Temporal is unreachable.
      }
      try {
        const status = await auditStatus(exporter, { client, witnesses: witnessEndpoints(config) });
        if (!client) status.pending = { error: `Temporal unreachable at ${globals.address ?? temporal.address}` };
        if (globals.json) printJson(status);
        else printStatus(status);
      } finally {
        await close();
      }
    });
}
