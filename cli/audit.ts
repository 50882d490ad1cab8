import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { Command } from 'commander';
import { CommanderError, Option } from 'commander';
import { decryptHistory, encryptedPayloads } from '../audit/decrypt';
import { AuditExporter } from '../audit/exporter';
import type { CheckpointResult, ExportRunResult } from '../audit/exporter';
import type { HistoryJson } from '../audit/history';
import { parseHistoryJson } from '../audit/history';
import { buildDecisionReport } from '../audit/report';
import type { DecisionReport } from '../audit/report';
import { openAuditStore, resolveAuditKeys, witnessEndpoints, witnessPolicy } from '../audit/setup';
import type { AuditStore } from '../audit/store';
import { verifyAuditStore } from '../audit/verify';
import type { VerifyResult } from '../audit/verify';
import type { WitnessOutcome } from '../audit/witness-client';
import type { WitnessPolicy } from '../audit/witness-policy';
import { connectClient } from '../client/connect';
import { missionDataConverter } from '../client/data-converter';
import { ensureAuditSchedule } from '../client/schedules';
import type { AuditConfig } from '../config';
import { ConfigError, EncryptionKeyMissing, loadKeyRing } from '../config';
import type { KeyRing } from '../core/payload-encryption';
import { UnknownEncryptionKey } from '../core/payload-encryption';
import { WORKFLOWS_PATH } from '../workers/worker';
import { cliConfig, cliKeyRing } from './context';
import { printJson } from './output';

/**
 * `mandate audit …`: export closed missions to the audit store, verify the store, replay a history
 * against the current workflow code, and print a mission's decision report. Each subcommand is also
 * a plain function (the demo, bench and tests call them). Exit codes follow the CLI: 0 ok, 1 a
 * failed check or error, 2 usage.
 */
export interface AuditIo {
  out: (line: string) => void;
  err: (line: string) => void;
}
export const stdio: AuditIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * A check that did not hold: main() prints the message and exits 1. `reported` says the command has
 * already printed its JSON document (which carries the failure), so main() prints no second one.
 */
export class AuditCheckFailed extends Error {
  override name = 'AuditCheckFailed';
  constructor(
    message: string,
    readonly reported = false,
  ) {
    super(message);
  }
}

// ---- export ----------------------------------------------------------------------------------

export interface ExportSummary {
  exported: number;
  unchanged: number;
  failed: { workflowId: string; runId: string; error: string }[];
  checkpoint: { size: number; created: boolean; rootHex: string; witnesses: WitnessOutcome[] };
  seconds: number;
}

export async function auditExport(
  exporter: AuditExporter,
  client: Client,
  options: {
    since?: string;
    missionId?: string;
    taskQueue?: string;
    batchSize?: number;
    json?: boolean;
    io?: AuditIo;
  } = {},
): Promise<ExportSummary> {
  const io = options.io ?? stdio;
  const started = performance.now();
  const found = await exporter.findUnexported(client, {
    since: options.since,
    missionId: options.missionId,
    taskQueue: options.taskQueue,
    limit: 10_000,
  });
  const batchSize = options.batchSize ?? 100;
  const summary: ExportSummary = {
    exported: 0,
    unchanged: 0,
    failed: [],
    checkpoint: { size: 0, created: false, rootHex: '', witnesses: [] },
    seconds: 0,
  };
  const total = found.runs.length;
  let done = 0;
  let lastProgress = 0;
  for (let i = 0; i < total; i += batchSize) {
    for (const run of found.runs.slice(i, i + batchSize)) {
      let result: ExportRunResult;
      try {
        result = await exporter.exportRun(client, run);
        if (result.written > 0) summary.exported++;
        else summary.unchanged++;
      } catch (err) {
        summary.failed.push({ workflowId: run.workflowId, runId: run.runId, error: (err as Error).message });
      }
      done++;
      const now = performance.now();
      if (now - lastProgress > 1000 || done === total) {
        lastProgress = now;
        const rate = done / ((now - started) / 1000);
        const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
        io.err(`audit export: ${done}/${total} runs, ${rate.toFixed(1)}/s, ETA ${eta}s`);
      }
    }
    summary.checkpoint = pick(await exporter.checkpoint());
  }
  if (total === 0) summary.checkpoint = pick(await exporter.checkpoint());
  summary.seconds = Math.round(performance.now() - started) / 1000;
  if (options.json) printJson(summary);
  else if (summary.exported === 0 && summary.failed.length === 0) {
    io.out(
      `nothing new to export (${found.alreadyExported + summary.unchanged} closed run(s) already in the log; log size ${summary.checkpoint.size})`,
    );
  } else {
    io.out(
      `exported ${summary.exported} run(s), ${summary.unchanged} unchanged, ${summary.failed.length} failed; ` +
        `log size ${summary.checkpoint.size}, root ${summary.checkpoint.rootHex.slice(0, 16)}…` +
        (summary.checkpoint.created ? ` (checkpoint ${summary.checkpoint.size} signed)` : ''),
    );
    for (const f of summary.failed) io.out(`  failed ${f.workflowId} ${f.runId}: ${f.error}`);
  }
  if (!options.json) for (const w of summary.checkpoint.witnesses) io.out(witnessLine(w));
  if (summary.failed.length)
    throw new AuditCheckFailed(`${summary.failed.length} run(s) could not be exported`, Boolean(options.json));
  return summary;
}

function pick(checkpoint: CheckpointResult): ExportSummary['checkpoint'] {
  const { size, created, rootHex, witnesses } = checkpoint;
  return { size, created, rootHex, witnesses };
}

export function witnessLine(w: WitnessOutcome): string {
  const what = {
    cosigned: `cosigned checkpoint ${w.size}`,
    stored: `had already cosigned checkpoint ${w.size}`,
    ahead: `is ahead of checkpoint ${w.size}`,
    refused: `REFUSED checkpoint ${w.size}`,
    unreachable: `could not be reached for checkpoint ${w.size}`,
  }[w.status];
  return `witness ${w.witness} (${w.keyId}) ${what}${w.detail ? `: ${w.detail}` : ''}`;
}

// ---- verify ----------------------------------------------------------------------------------

export async function auditVerify(
  store: AuditStore,
  options: {
    verifierKeys: string[];
    origin?: string;
    witnesses?: WitnessPolicy;
    /** Optional: with it, the signatures inside encrypted histories are checked too. */
    keyRing?: KeyRing;
    json?: boolean;
    io?: AuditIo;
  },
): Promise<VerifyResult> {
  const io = options.io ?? stdio;
  const result = await verifyAuditStore(store, {
    verifierKeys: options.verifierKeys,
    origin: options.origin,
    witnesses: options.witnesses,
    keyRing: options.keyRing,
  });
  if (options.json) printJson(result);
  else {
    const { leaves, bundles, checkpoints, attestations, cosignatures, objects } = result.counts;
    io.out(
      `${store.describe().location}: ${objects} object(s): ${bundles} bundle(s), ${leaves} leaf/leaves, ${checkpoints} checkpoint(s), ${cosignatures} witness cosignature(s), ${attestations} signature(s) checked against the keys pinned in each history`,
    );
    if (result.latest) {
      io.out(`latest checkpoint: size ${result.latest.size}, root ${result.latest.rootHex}`);
      for (const w of result.latest.witnesses) io.out(`  cosigned by ${w.name} (${w.keyId}) at ${w.timestamp}`);
    }
    for (const n of result.notes) io.out(`note: ${n}`);
    for (const p of result.problems) io.out(`BROKEN ${p.subject}: ${p.problem}`);
    io.out(
      result.ok
        ? `OK: every object is accounted for; every bundle, leaf and checkpoint verifies${options.witnesses ? ', and the witness policy holds' : ''}`
        : `FAILED: ${result.problems.length} problem(s)`,
    );
  }
  if (!result.ok)
    throw new AuditCheckFailed(`audit verify found ${result.problems.length} problem(s)`, Boolean(options.json));
  return result;
}

// ---- replay and report -------------------------------------------------------------------------

/** A bundle directory (with history.json), a history.json file, or a stock `temporal workflow show` file. */
export function readHistorySource(source: string): HistoryJson {
  const path = existsSync(source) && statSync(source).isDirectory() ? join(source, 'history.json') : source;
  if (!existsSync(path)) throw new Error(`no history at ${path}`);
  return parseHistoryJson(readFileSync(path));
}

export async function fetchMissionHistory(client: Client, missionId: string): Promise<HistoryJson> {
  const history = await client.workflow.getHandle(missionId).fetchHistory();
  return parseHistoryJson(historyToJSON(history));
}

export interface ReplayOutcome {
  ok: boolean;
  workflowId?: string;
  error?: { name: string; message: string };
}

export async function auditReplay(
  history: HistoryJson,
  options: {
    workflowBundlePath?: string;
    /** The key ring an encrypted history replays through (the deployment's data converter is built from it). */
    keyRing?: KeyRing;
    json?: boolean;
    io?: AuditIo;
  } = {},
): Promise<ReplayOutcome> {
  const io = options.io ?? stdio;
  const started = history.events[0] as { workflowExecutionStartedEventAttributes?: { workflowId?: string } };
  const workflowId = started.workflowExecutionStartedEventAttributes?.workflowId ?? 'replay';
  let outcome: ReplayOutcome;
  try {
    // Said up front: inside a replay, a decoding error reaches us only as an (encrypted) workflow task failure.
    if (options.keyRing) requireKeys(history, options.keyRing);
    await Worker.runReplayHistory(
      {
        ...(options.workflowBundlePath
          ? { workflowBundle: { codePath: options.workflowBundlePath } }
          : { workflowsPath: WORKFLOWS_PATH }),
        ...(options.keyRing ? { dataConverter: missionDataConverter(options.keyRing) } : {}),
      },
      history,
      workflowId,
    );
    outcome = { ok: true, workflowId };
  } catch (err) {
    const error = err as Error;
    outcome = { ok: false, workflowId, error: { name: error.name, message: error.message } };
  }
  if (options.json) printJson(outcome);
  else if (outcome.ok)
    io.out(`replay OK: ${workflowId} (${history.events.length} events) replays against the current workflow code`);
  else io.out(`replay FAILED: ${workflowId}: ${outcome.error!.name}: ${outcome.error!.message}`);
  if (!outcome.ok) {
    const kind = /Determinism/i.test(outcome.error!.name) ? 'determinism violation' : 'replay error';
    throw new AuditCheckFailed(`${kind}: ${outcome.error!.message.split('\n')[0]}`, Boolean(options.json));
  }
  return outcome;
}

/**
 * The decision report of a history; signatures are checked against the keys pinned in it. An
 * encrypted history is read through the key ring (without one, its encrypted payloads are noted as
 * unreadable). Throws UnknownEncryptionKey naming a missing key id.
 */
export function auditReport(history: HistoryJson, options: { keyRing?: KeyRing } = {}): DecisionReport {
  return buildDecisionReport(options.keyRing ? decryptHistory(history, options.keyRing) : history);
}

/** Throws UnknownEncryptionKey for the first key id of the history the ring does not hold. */
function requireKeys(history: HistoryJson, ring: KeyRing): void {
  const missing = encryptedPayloads(history).keyIds.find((id) => !ring.has(id));
  if (missing) throw new UnknownEncryptionKey(missing, ring.ids);
}

/** The key ring an encrypted history needs (a missing ring is an error naming the history's key ids). */
export function keyRingFor(history: HistoryJson): KeyRing | undefined {
  const { count, keyIds } = encryptedPayloads(history);
  if (count === 0) return undefined;
  try {
    const keys = cliKeyRing();
    if (keys) return keys.ring;
  } catch (err) {
    if (!(err instanceof EncryptionKeyMissing)) throw err;
  }
  throw new EncryptionKeyMissing(
    `this history holds ${count} encrypted payload(s) under key id(s) ${keyIds.join(', ')}: ` +
      'give the key ring with MANDATE_ENCRYPTION_KEYS_FILE (or MANDATE_ENCRYPTION_KEYS)',
  );
}

// ---- commander wiring --------------------------------------------------------------------------

export interface Globals {
  json?: boolean;
  address?: string;
  namespace?: string;
  taskQueue?: string;
}

/**
 * A client for an audit command. Histories are fetched as stored (no codec involved), so only commands
 * that send payloads (`encrypt`: the schedule's input) need the key ring.
 */
export async function withClient<T>(
  cmd: Command,
  run: (client: Client, globals: Globals) => Promise<T>,
  options: { encrypt?: boolean } = {},
): Promise<T> {
  const globals = cmd.optsWithGlobals<Globals>();
  const { temporal } = cliConfig();
  const connection = await connectClient({
    address: globals.address ?? temporal.address,
    namespace: globals.namespace ?? temporal.namespace,
    hint: 'set MANDATE_TEMPORAL_ADDRESS or --address',
    ...(options.encrypt ? { dataConverter: missionDataConverter(cliKeyRing()?.ring) } : {}),
  });
  try {
    return await run(connection.client, globals);
  } finally {
    await connection.close();
  }
}

/** The configured audit settings with the command's --store / --dir on top. */
export function auditConfig(opts: { store?: string; dir?: string }): AuditConfig {
  const config = cliConfig().audit;
  const store = (opts.store as AuditConfig['store'] | undefined) ?? config.store;
  if (store === 's3' && !config.s3) {
    throw new ConfigError(
      'configuration error: MANDATE_AUDIT_STORE=s3 needs MANDATE_AUDIT_S3_BUCKET, MANDATE_AUDIT_S3_ACCESS_KEY_ID, MANDATE_AUDIT_S3_SECRET_ACCESS_KEY',
    );
  }
  return { ...config, store, ...(opts.dir ? { dir: resolve(opts.dir) } : {}) };
}

export function keysFor(config: AuditConfig, io: AuditIo, generate = true) {
  const keys = resolveAuditKeys(config, generate);
  if (keys.local?.created)
    io.err(
      `audit: generated a local checkpoint key pair in ${keys.local.dir} (set MANDATE_AUDIT_SIGNER_KEY in production)`,
    );
  return keys;
}

export const storeOptions = (command: Command) =>
  command
    .addOption(new Option('--store <kind>', 'audit store (default $MANDATE_AUDIT_STORE or fs)').choices(['fs', 's3']))
    .option('--dir <path>', 'filesystem store root (default $MANDATE_AUDIT_DIR or <data dir>/audit)');

/** Adds `mandate audit export|verify|replay|schedule` to the program; returns the `audit` command (report: audit-report.ts). */
export function registerAuditCommands(program: Command): Command {
  const audit = program.command('audit').description('export, verify, replay and report mission histories');

  storeOptions(audit.command('export'))
    .description('export closed missions not yet exported: bundle, Merkle log leaf, signed checkpoint')
    .option('--since <iso>', 'only runs closed at or after this time (default: the log cursor)')
    .option('--mission <id>', 'only this mission')
    .action(async (opts: { since?: string; mission?: string; store?: string; dir?: string }, cmd: Command) => {
      if (opts.since && Number.isNaN(Date.parse(opts.since)))
        throw usage(`--since must be an ISO time, got "${opts.since}"`);
      const config = auditConfig(opts);
      const keys = keysFor(config, stdio);
      if (!keys.signerKey) throw new Error('audit export needs a signer key: set MANDATE_AUDIT_SIGNER_KEY');
      const store = await openAuditStore(config);
      await withClient(cmd, async (client, globals) => {
        const exporter = new AuditExporter({
          store,
          signerKey: keys.signerKey!,
          origin: config.origin,
          witnesses: witnessEndpoints(config),
        });
        const since = opts.since ? new Date(opts.since).toISOString() : undefined;
        await auditExport(exporter, client, { since, missionId: opts.mission, json: globals.json });
      });
    });

  storeOptions(audit.command('verify'))
    .description(
      'check that every object is accounted for, every hash, leaf inclusion, checkpoint consistency and signature, and the witness policy; exit 0 only if all hold',
    )
    .option(
      '--witness-key <vkey>',
      'a witness cosignature key the latest checkpoint must carry (repeatable; default $MANDATE_AUDIT_WITNESSES)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--witness-quorum <n>', 'how many of those witnesses must have cosigned (default: all)', (v) =>
      positive(v, '--witness-quorum'),
    )
    .action(
      async (opts: { store?: string; dir?: string; witnessKey?: string[]; witnessQuorum?: number }, cmd: Command) => {
        const config = auditConfig(opts);
        const keys = keysFor(config, stdio, false); // verifying never creates a key
        const store = await openAuditStore(config, false);
        const configured = witnessPolicy(config);
        const witnesses = opts.witnessKey?.length
          ? { keys: opts.witnessKey, quorum: opts.witnessQuorum }
          : configured && { ...configured, ...(opts.witnessQuorum ? { quorum: opts.witnessQuorum } : {}) };
        if (opts.witnessQuorum && !witnesses)
          throw usage('--witness-quorum needs --witness-key or MANDATE_AUDIT_WITNESSES');
        await auditVerify(store, {
          verifierKeys: keys.verifierKeys,
          origin: config.origin,
          witnesses,
          keyRing: optionalKeyRing(),
          json: cmd.optsWithGlobals<Globals>().json,
        });
      },
    );

  audit
    .command('replay [source]')
    .description(
      'replay a bundle directory, history.json or `temporal workflow show --output json` file against the current workflow code',
    )
    .option('--mission <id>', 'fetch the mission history from Temporal instead')
    .option('--workflow-bundle <file>', 'a prebuilt workflow bundle (default: bundle the current workflows)')
    .action(async (source: string | undefined, opts: { mission?: string; workflowBundle?: string }, cmd: Command) => {
      const history = await historyFrom(source, opts.mission, cmd);
      const keyRing = keyRingFor(history);
      await auditReplay(history, {
        workflowBundlePath: opts.workflowBundle,
        keyRing,
        json: cmd.optsWithGlobals<Globals>().json,
      });
    });

  audit
    .command('schedule')
    .description('create the Temporal Schedule that runs the audit export workflow (no-op if it exists)')
    .option('--every <duration>', 'interval, e.g. "5 minutes"', '5 minutes')
    .action(async (opts: { every: string }, cmd: Command) =>
      withClient(
        cmd,
        async (client, globals) => {
          const taskQueue = globals.taskQueue ?? cliConfig().temporal.taskQueue;
          const result = await ensureAuditSchedule(client, { taskQueue, every: opts.every });
          if (globals.json) printJson(result);
          else
            stdio.out(
              `${result.created ? 'created' : 'already exists:'} schedule ${result.scheduleId} (every ${opts.every})`,
            );
        },
        { encrypt: true },
      ),
    );
  return audit;
}

/** Verify needs no key: it uses the ring only when one is configured and present. */
export function optionalKeyRing(): KeyRing | undefined {
  try {
    return loadKeyRing(cliConfig().encryption)?.ring;
  } catch (err) {
    if (err instanceof EncryptionKeyMissing) return undefined;
    throw err;
  }
}

export async function historyFrom(
  source: string | undefined,
  missionId: string | undefined,
  cmd: Command,
): Promise<HistoryJson> {
  if (source && missionId) throw usage('give either a source path or --mission, not both');
  if (missionId) return withClient(cmd, (client) => fetchMissionHistory(client, missionId));
  if (!source) throw usage('give a bundle directory, a history.json file or --mission <id>');
  return readHistorySource(source);
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usage(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

/** A usage error: main() maps CommanderError to exit code 2. */
export function usage(message: string): Error {
  process.stderr.write(`mandate: ${message}\n`);
  return new CommanderError(2, 'mandate.usage', message);
}
