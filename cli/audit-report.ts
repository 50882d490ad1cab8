import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { keySegment } from '../audit/bundle';
import type { EvidenceOptions } from '../audit/evidence';
import { evidenceFromStore, manifestIds } from '../audit/evidence';
import type { HistoryJson } from '../audit/history';
import { parseHistoryJson } from '../audit/history';
import { AuditLog } from '../audit/log';
import { buildPackage, verifyPackage } from '../audit/package';
import type { PackageVerification } from '../audit/package';
import type { ReadableReport } from '../audit/readable-report';
import { reportForBundle, reportFromEvidence, reportFromHistory } from '../audit/readable-report';
import { REPORT_FORMATS, formatReport } from '../audit/report-format';
import type { ReportFormat } from '../audit/report-format';
import { renderPdf } from '../audit/report-pdf';
import type { TrustedKeys } from '../audit/report-verification';
import { openAuditStore, trustedKeys, witnessPolicy } from '../audit/setup';
import type { AuditStore } from '../audit/store';
import { FsAuditStore } from '../audit/store-fs';
import { MemoryAuditStore } from '../audit/store-memory';
import { MARK } from '../audit/report-summary';
import type { AuditConfig } from '../config';
import type { KeyRing } from '../core/payload-encryption';
import type { Globals } from './audit';
import {
  AuditCheckFailed,
  auditConfig,
  fetchMissionHistory,
  keyRingFor,
  readHistorySource,
  stdio,
  usage,
  withClient,
} from './audit';
import { cliConfig } from './context';
import { printJson } from './output';

/**
 * `mandate audit report|package|verify-package`: the auditor's view of one mission — the readable
 * report (text, Markdown, JSON, HTML, PDF) with its verification banner, and the self-contained
 * evidence package an external auditor checks offline.
 */

/** Where a bundle is: a store and its ids, with parts read from a folder as they are when given. */
interface BundleAt {
  store: AuditStore;
  workflowId: string;
  runId: string;
  options: EvidenceOptions;
}

/** A bundle folder inside a filesystem store (`<root>/bundles/<mission>/<run>/`), or a mission's latest bundle. */
async function locateBundle(config: AuditConfig, source: string | undefined, missionId: string | undefined) {
  if (source && existsSync(source) && statSync(source).isDirectory() && existsSync(join(source, 'manifest.json'))) {
    const dir = resolve(source);
    const ids = manifestIds(readFileSync(join(dir, 'manifest.json')));
    const root = dirname(dirname(dirname(dir)));
    const inStore = basename(dirname(dirname(dir))) === 'bundles' && existsSync(join(root, 'log', 'leaves'));
    if (!ids) return undefined;
    const readPart: EvidenceOptions['readPart'] = (name) => readFile(join(dir, name));
    // A bundle folder outside a store has no log to prove it against: an empty store says so.
    const store: AuditStore = inStore ? new FsAuditStore({ root }) : new MemoryAuditStore();
    return { store, ...ids, options: { readPart } } satisfies BundleAt;
  }
  if (!missionId) return undefined;
  const store = await openAuditStore(config, false);
  const manifests = (await store.list(`bundles/${keySegment(missionId)}/`)).filter((k) => k.endsWith('/manifest.json'));
  let latest: { runId: string; closedAt: string } | undefined;
  for (const key of manifests) {
    const manifest = JSON.parse((await store.get(key)).toString('utf8')) as { runId: string; closedAt?: string };
    if (!latest || (manifest.closedAt ?? '') > latest.closedAt)
      latest = { runId: manifest.runId, closedAt: manifest.closedAt ?? '' };
  }
  return latest ? ({ store, workflowId: missionId, runId: latest.runId, options: {} } satisfies BundleAt) : undefined;
}

/** The keys of this host's configuration, with the command's witness options on top. */
function keysFor(config: AuditConfig, opts: { witnessKey?: string[]; witnessQuorum?: number }): TrustedKeys {
  const { grantKeyFile } = cliConfig();
  const witnesses = opts.witnessKey?.length
    ? { keys: opts.witnessKey, quorum: opts.witnessQuorum }
    : witnessPolicy(config);
  return trustedKeys(config, { grantKeyFile }, witnesses);
}

async function readableReport(
  config: AuditConfig,
  source: string | undefined,
  missionId: string | undefined,
  keys: TrustedKeys,
  cmd: Command,
): Promise<ReadableReport> {
  const at = await locateBundle(config, source, missionId);
  if (at) {
    // The evidence is the ciphertext as stored (integrity needs no key); the content is read with the ring.
    const log = await AuditLog.load(at.store, config.origin);
    const evidence = await evidenceFromStore(at.store, log, at.workflowId, at.runId, at.options);
    return reportFromEvidence(evidence, keys, { keyRing: ringForBytes(evidence.history) });
  }
  const history = missionId
    ? await withClient(cmd, (client) => fetchMissionHistory(client, missionId))
    : source
      ? readHistorySource(source)
      : undefined;
  if (!history) throw usage('give a bundle directory, a history.json file or --mission <id>');
  return reportFromHistory(history, { keyRing: keyRingFor(history) });
}

/** The key ring an encrypted history needs (an error naming its key ids without one); none for an unreadable file. */
function ringForBytes(bytes: Buffer): KeyRing | undefined {
  let history: HistoryJson;
  try {
    history = parseHistoryJson(bytes);
  } catch {
    return undefined; // the report shows why it cannot be read
  }
  return keyRingFor(history);
}

const witnessOptions = (command: Command) =>
  command
    .option(
      '--witness-key <vkey>',
      'a witness key of the policy (repeatable; default $MANDATE_AUDIT_WITNESSES)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--witness-quorum <n>', 'cosignatures needed (default: all)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw usage(`--witness-quorum must be a positive whole number, got "${v}"`);
      return n;
    });

export function registerAuditReportCommands(audit: Command): void {
  witnessOptions(audit.command('report [source]'))
    .description(
      'the decision report of a bundle (folder) or mission: a verdict banner with every verification check, a timeline, the six layers',
    )
    .option(
      '--mission <id>',
      "the mission's latest exported bundle in the configured store (else its history from Temporal)",
    )
    .addOption(new Option('--format <format>', 'output format').choices([...REPORT_FORMATS]).default('text'))
    .option('--out <file>', 'write to this file instead of stdout (PDF: recommended)')
    .action(
      async (
        source: string | undefined,
        opts: { mission?: string; format: ReportFormat; out?: string; witnessKey?: string[]; witnessQuorum?: number },
        cmd: Command,
      ) => {
        if (source && opts.mission) throw usage('give either a source path or --mission, not both');
        const config = auditConfig({});
        const readable = await readableReport(config, source, opts.mission, keysFor(config, opts), cmd);
        const format = cmd.optsWithGlobals<Globals>().json ? 'json' : opts.format;
        const output =
          format === 'pdf'
            ? await renderPdf(formatReport(readable.report, 'html', readable), cliConfig().tools.chromium)
            : Buffer.from(formatReport(readable.report, format, readable), 'utf8');
        if (opts.out) {
          writeFileSync(opts.out, output);
          stdio.err(`wrote ${opts.out} (${output.length} bytes)`);
        } else process.stdout.write(output);
      },
    );

  witnessOptions(audit.command('package <missionOrBundle>'))
    .description(
      'an evidence package (.zip or .tar.gz) an auditor can verify offline: bundle, proof, checkpoint, keys, report, README',
    )
    .requiredOption('--out <file>', 'the package file: name.zip or name.tar.gz')
    .action(
      async (target: string, opts: { out: string; witnessKey?: string[]; witnessQuorum?: number }, cmd: Command) => {
        if (!/\.(zip|tar\.gz|tgz)$/i.test(opts.out)) throw usage('--out must end in .zip or .tar.gz');
        const config = auditConfig({});
        const isDir = existsSync(target) && statSync(target).isDirectory();
        const at = await locateBundle(config, isDir ? target : undefined, isDir ? undefined : target);
        if (!at)
          throw new Error(
            `no exported bundle for ${target} (a bundle folder, or a mission id in ${config.store === 's3' ? 'the S3 store' : config.dir})`,
          );
        const log = await AuditLog.load(at.store, config.origin);
        const keys = keysFor(config, opts);
        const { evidence } = await reportForBundle(at.store, log, at.workflowId, at.runId, keys, {
          ...at.options,
          checkpoint: 'earliest',
        });
        const bytes = buildPackage(evidence, keys, opts.out);
        writeFileSync(opts.out, bytes);
        const summary = { file: opts.out, bytes: bytes.length, workflowId: at.workflowId, runId: at.runId };
        if (cmd.optsWithGlobals<Globals>().json) printJson(summary);
        else stdio.out(`wrote ${opts.out} (${bytes.length} bytes): mission ${at.workflowId}, run ${at.runId}`);
      },
    );

  audit
    .command('verify-package <file>')
    .description('check an evidence package offline (no store, no Temporal); exit 0 only if every file is intact')
    .option(
      '--checkpoint-key <vkey>',
      "the log's checkpoint key as you obtained it (repeatable)",
      (v: string, p: string[] = []) => [...p, v],
    )
    .action((file: string, opts: { checkpointKey?: string[] }, cmd: Command) => {
      const json = Boolean(cmd.optsWithGlobals<Globals>().json);
      const result = verifyPackage(readFileSync(file), { checkpoint: opts.checkpointKey });
      if (json) printJson(result);
      else printPackageVerification(file, result);
      if (!result.ok) throw new AuditCheckFailed(`${file}: ${result.problems.length} problem(s)`, json);
    });
}

export function printPackageVerification(file: string, result: PackageVerification, io = stdio): void {
  io.out(`${file}: mission ${result.workflowId ?? '?'}, run ${result.runId ?? '?'}`);
  for (const c of result.checks)
    io.out(`  ${MARK[c.status]} ${c.label}: ${c.reason}${c.keyId ? ` (key ${c.keyId})` : ''}`);
  for (const p of result.problems) io.out(`BROKEN ${p.file}: ${p.problem}`);
  io.out(
    result.ok
      ? 'OK: every file is intact and the chain from history to the signed, cosigned checkpoint holds'
      : `FAILED: ${result.problems.length} problem(s)`,
  );
}
