import Database from 'better-sqlite3';
import { Catalog } from '../catalog/catalog';
import type { CommandContext } from '../cli/commands';
import { approvalsList, missionShow, missionStart, voteCommand } from '../cli/commands';
import { stateQuery } from '../contract/messages';
import type { MissionResult } from '../contract/mission';
import { demoAudit, startDemoWitness } from './demo-audit';
import { startEmbeddedStack } from './embedded-stack';

/**
 * `npm run demo`: a scripted, non-interactive tour on the embedded defaults. It starts its own dev
 * server, sample database and worker, then runs three refunds: one policy allows, one a supervisor
 * approves (and a repeated approval changes nothing), one a supervisor rejects.
 */
const say = (line = '') => console.log(line);
const banner = (title: string) => say(`\n=== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}`);

async function main(): Promise<void> {
  const witness = await startDemoWitness(say);
  say('Starting a Temporal dev server, the sample enterprise database and a mission worker…');
  const stack = await startEmbeddedStack({ name: 'demo', log: say, auditEnv: witness.env });
  const { client, taskQueue, dbPath } = stack;
  say(
    `Payloads are encrypted (AES-256-GCM, key ${stack.keys.ring.currentKeyId}) with a key ring generated in ${stack.keys.source}`,
  );
  const ctx: CommandContext = {
    client,
    catalog: Catalog.load(),
    taskQueue,
    json: false,
    out: say,
    operator: stack.operator,
  };
  const refunds = (missionId: string) => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare('SELECT refund_id, amount_cents FROM refunds WHERE mission_id = ?').all(missionId);
    } finally {
      db.close();
    }
  };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`demo expectation failed: ${what}`);
    say(`✔ ${what}`);
  };
  const waitForApproval = async (missionId: string) => {
    for (let i = 0; i < 300; i++) {
      const state = await client.workflow.getHandle(missionId).query(stateQuery);
      if (state.pending.length) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${missionId} never asked for approval`);
  };
  const finish = async (missionId: string) => (await client.workflow.getHandle(missionId).result()) as MissionResult;

  try {
    banner('1. A small refund: policy allows it, no human needed');
    say('$ mandate mission start customer-refund --input <(echo \'{"caseId":"CASE-1001"}\') --direct --as dana.desk');
    const small = await missionStart(ctx, 'customer-refund', { caseId: 'CASE-1001' }, 'dana.desk');
    const smallResult = await finish(small);
    await missionShow(ctx, small);
    check(
      smallResult.verdict === 'completed' && refunds(small).length === 1,
      'auto-allowed refund executed exactly once',
    );

    banner('2. A large refund: waits for a supervisor, who approves it');
    say('$ mandate mission start customer-refund --input <(echo \'{"caseId":"CASE-1002"}\') --direct --as dana.desk');
    const large = await missionStart(ctx, 'customer-refund', { caseId: 'CASE-1002' }, 'dana.desk');
    await waitForApproval(large);
    say('$ mandate approvals list');
    await approvalsList(ctx);
    say(
      `$ mandate approve ${large} a1 --direct --as sam.supervisor --role supervisor --reason "photos of the leak attached"`,
    );
    await voteCommand(ctx, large, 'a1', 'approve', 'sam.supervisor', 'photos of the leak attached', ['supervisor']);
    const largeResult = await finish(large);
    say(`$ mandate approve ${large} a1 --direct --as sam.supervisor --role supervisor   # the same command again`);
    try {
      await voteCommand(ctx, large, 'a1', 'approve', 'sam.supervisor', undefined, ['supervisor']);
      throw new Error('a repeated approval was accepted');
    } catch (err) {
      say(`mandate: ${(err as Error).message}`);
    }
    await missionShow(ctx, large);
    check(largeResult.verdict === 'completed' && refunds(large).length === 1, 'approved refund executed exactly once');

    banner('3. Another large refund: the supervisor rejects it');
    say('$ mandate mission start customer-refund --input <(echo \'{"caseId":"CASE-1003"}\') --direct --as dana.desk');
    const rejected = await missionStart(ctx, 'customer-refund', { caseId: 'CASE-1003' }, 'dana.desk');
    await waitForApproval(rejected);
    say(
      `$ mandate reject ${rejected} a1 --direct --as sam.supervisor --role supervisor --reason "return not received yet"`,
    );
    await voteCommand(ctx, rejected, 'a1', 'reject', 'sam.supervisor', 'return not received yet', ['supervisor']);
    const rejectedResult = await finish(rejected);
    await missionShow(ctx, rejected);
    check(rejectedResult.verdict === 'rejected' && refunds(rejected).length === 0, 'rejected refund: nothing executed');

    // ---- Audit: exported on close, witnessed, verified (no payload key), reported (with the key ring) ----
    banner('4. Audit: exported on close, cosigned by a witness, verified, reported');
    await demoAudit(client, stack.audit, large, [small, rejected], witness, say, stack.keys.ring);

    banner('Done');
    say('Three missions: one allowed by policy, one approved and executed once, one rejected with nothing executed.');
  } finally {
    await stack.stop();
    await witness.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
