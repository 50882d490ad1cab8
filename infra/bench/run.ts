import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { startEmbeddedStack } from '../embedded-stack';
import { benchDecisions } from './decisions';
import { benchAudit } from './audit';
import { benchExportLag } from './export-lag';
import { startBaselineWorker } from './baseline-worker';
import { benchCodec, startPlaintextLane } from './encryption';
import { benchGovernance } from './governance';
import { benchRedaction } from './redaction';

/**
 * `npm run bench [-- --missions N]`: starts its own dev server and worker, runs each benchmark,
 * prints the numbers and writes them as JSON under bench/results/.
 */
async function main(): Promise<void> {
  const flag = process.argv.indexOf('--missions');
  const missions = flag > 0 ? Number(process.argv[flag + 1]) : 40;
  if (!Number.isInteger(missions) || missions < 1) throw new Error('--missions must be a positive whole number');
  // Cases CASE-2000…: the encrypted run, then the plaintext run, then a warm-up of 5 for each.
  const seed = { extraSmallCases: 2 * missions + 10 };
  const stack = await startEmbeddedStack({ name: 'bench', seed, log: console.log });
  const { client, taskQueue } = stack;
  const baseline = await startBaselineWorker(stack.nativeConnection, `${taskQueue}-baseline`, stack.dataConverter);
  const queues = { missions: taskQueue, baseline: baseline.taskQueue };
  try {
    console.log(`Warming up…`);
    await benchGovernance(client, stack.approvals, queues, 5, 2000 + 2 * missions);
    console.log(
      `Governance overhead: ${missions} governed refund missions vs bare workflows with the same activity count`,
    );
    const governance = await benchGovernance(client, stack.approvals, queues, missions, 2000);
    console.log(`  activities per mission  ${governance.activitiesPerMission}`);
    console.log(
      `  governed                ${governance.governed.perSecond} missions/s (${governance.governed.seconds} s)`,
    );
    console.log(`  bare                    ${governance.bare.perSecond} workflows/s (${governance.bare.seconds} s)`);
    console.log(`  governed/bare ratio     ${governance.ratio}`);

    // Export on close: each mission above exported itself as it closed (bundle, leaf, checkpoint).
    const exportLag = await benchExportLag(client, taskQueue, stack.audit);
    console.log(`Export on close: time from a mission's close to its bundle in the store (${exportLag.runs} runs)`);
    console.log(`  median ${exportLag.medianSeconds} s, p95 ${exportLag.p95Seconds} s, max ${exportLag.maxSeconds} s`);

    // Payload encryption (issue 11): the codec alone, then the same governed missions without it.
    console.log('Payload encryption (AES-256-GCM codec)');
    await benchCodec(2000); // warm-up
    const codec = await benchCodec(20_000);
    for (const c of codec)
      console.log(
        `  ${String(c.bytes).padStart(6)} B payloads      ${c.encryptPerSecond} encrypt/s, ${c.decryptPerSecond} decrypt/s, ${c.mbPerSecond} MB/s`,
      );
    const plain = await startPlaintextLane({ ...stack });
    let plaintext: Awaited<ReturnType<typeof benchGovernance>>;
    try {
      await benchGovernance(plain.client, stack.approvals, plain.queues, 5, 2000 + 2 * missions + 5);
      plaintext = await benchGovernance(plain.client, stack.approvals, plain.queues, missions, 2000 + missions);
    } finally {
      await plain.stop();
    }
    const encryption = {
      codec,
      governedEncrypted: governance.governed.perSecond,
      governedPlaintext: plaintext.governed.perSecond,
      ratio: Math.round((governance.governed.perSecond / plaintext.governed.perSecond) * 1000) / 1000,
    };
    console.log(`  governed, encrypted     ${encryption.governedEncrypted} missions/s`);
    console.log(`  governed, plaintext     ${encryption.governedPlaintext} missions/s`);
    console.log(`  encrypted/plaintext     ${encryption.ratio}`);

    // Audit export/verify throughput (issue 5): the missions above, plus synthetic bundles.
    const auditFlag = process.argv.indexOf('--audit-bundles');
    const audit = await benchAudit(client, taskQueue, auditFlag > 0 ? Number(process.argv[auditFlag + 1]) : 300);
    console.log(`Audit (filesystem store): export and verify throughput`);
    console.log(`  export, real missions   ${audit.real.bundlesPerSecond} bundles/s (${audit.real.bundles} bundles)`);
    console.log(
      `  export, synthetic       ${audit.synthetic.bundlesPerSecond} bundles/s, ${audit.synthetic.leavesPerSecond} leaves/s (${audit.synthetic.bundles})`,
    );
    console.log(
      `  verify                  ${audit.verify.bundlesPerSecond} bundles/s, ${audit.verify.leavesPerSecond} leaves/s (${audit.verify.leaves} leaves)`,
    );

    console.log('Decision service vs raw statefulIsAuthorized (same preparsed Cedar policies, same requests)');
    benchDecisions(2000); // warm-up
    const decisions = benchDecisions(20_000);
    console.log(`  decision service        ${decisions.service.perSecond} decisions/s`);
    console.log(`  raw statefulIsAuthorized ${decisions.raw.perSecond} decisions/s`);
    console.log(`  service/raw ratio       ${decisions.ratio}`);

    console.log('Redaction for providers outside the boundary (detector + keyed pseudonyms) vs a plain copy');
    benchRedaction(0.2); // warm-up
    const redaction = benchRedaction(2);
    console.log(
      `  redaction               ${redaction.redaction.mbPerSecond} MB/s (${redaction.megabytes} MB, ${redaction.strings} strings)`,
    );
    console.log(`  plain copy              ${redaction.copy.mbPerSecond} MB/s`);
    console.log(`  redaction/copy ratio    ${redaction.ratio}`);

    const report = {
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      governance,
      exportLag,
      encryption,
      audit,
      decisions,
      redaction,
    };
    const dir = resolve(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `bench-${report.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${file}`);
  } finally {
    await baseline.stop();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
